"""Invoices, payments, credit and each service's billing record.

An invoice is **proforma** (``unpaid``) until it is paid in full: only then does it get its final
number, from a counter row locked in the paying transaction (so numbers are gapless and unique),
and the buyer's and seller's details are copied onto it. A paid invoice is never edited or
deleted: corrections are credit notes. Every change writes a ``BillingEvent`` in its transaction.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from portal.billing.cycles import BillingCycle
from portal.billing.money import ZERO, MoneyField, format_money
from portal.core import clock


class TaxRate(models.Model):
    """The tax of a buyer's country (B2C, and B2B without reverse charge)."""

    country = models.CharField(max_length=2, unique=True, help_text="ISO 3166 code, e.g. DE.")
    name = models.CharField(max_length=40, default="VAT")
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 19.00.")

    class Meta:
        ordering = ("country",)

    def __str__(self) -> str:
        return f"{self.country}: {self.name} {self.rate}%"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    ISSUED = "issued", "Issued"  # a credit note: final from the start
    CANCELLED = "cancelled", "Cancelled"


class Invoice(models.Model):
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.UNPAID
    )
    number = models.CharField(max_length=40, unique=True, null=True, blank=True, editable=False)
    source_key = models.CharField(
        max_length=120,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="What the invoice is for (an order, a renewal period): one invoice per key.",
    )
    currency = models.CharField(max_length=3)
    subtotal = MoneyField(default=ZERO)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    tax_label = models.CharField(max_length=60, blank=True)
    reverse_charge = models.BooleanField(default=False)
    tax_amount = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO)
    amount_paid = MoneyField(default=ZERO)
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    buyer = models.JSONField(default=dict, blank=True, help_text="Copied when paid.")
    seller = models.JSONField(default=dict, blank=True, help_text="Copied when paid.")
    notes = models.TextField(blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-issued_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0) & models.Q(amount_paid__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=("unpaid", "cancelled"))
                | models.Q(number__isnull=False),
                name="final_invoice_has_a_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Proforma #{self.pk}"

    @property
    def balance_due(self) -> Decimal:
        return max(self.total - self.amount_paid, ZERO)

    @property
    def is_proforma(self) -> bool:
        return self.number is None


class InvoiceLine(models.Model):
    """One line. A line with a ``product`` orders services: on payment, ``quantity`` services of
    that product are created through provisioning's lifecycle API, each with its billing record."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = MoneyField()
    amount = MoneyField()
    product = models.ForeignKey(
        "provisioning.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cycle = models.CharField(max_length=12, choices=BillingCycle.choices, blank=True)
    recurring_price = MoneyField(null=True, blank=True)
    adds_credit = models.BooleanField(
        default=False, help_text="Paying this line adds its amount to the customer's credit."
    )

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.description


class InvoiceCounter(models.Model):
    """The last number given in a series and year; locked while the next one is taken."""

    series = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("series", "year"), name="one_counter_per_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"


class Gateway(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    STRIPE = "stripe", "Card (Stripe)"
    CREDIT = "credit", "Account credit"
    DEMO = "demo", "Demo (pays at once)"


class Payment(models.Model):
    """Money received for an invoice (or credit taken from the balance)."""

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    reference = models.CharField(
        max_length=255, help_text="The gateway's id of this payment: the same one twice is one."
    )
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    refunded = MoneyField(default=ZERO)
    received_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("gateway", "reference"), name="one_payment_per_ref"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_gateway_display()} {format_money(self.amount)}"


class CreditEntry(models.Model):
    """One movement of a customer's credit balance (the balance is their sum)."""

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="credit_entries"
    )
    amount = MoneyField(help_text="Positive adds credit, negative uses it.")
    reason = models.CharField(max_length=200)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "credit entries"

    def __str__(self) -> str:
        return f"{self.amount:+} {self.reason}"


class Subscription(models.Model):
    """The billing side of one service: what it costs each cycle and when it is next due."""

    service = models.OneToOneField(
        "provisioning.Service", on_delete=models.PROTECT, related_name="subscription"
    )
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="subscriptions"
    )
    cycle = models.CharField(max_length=12, choices=BillingCycle.choices)
    recurring_price = MoneyField()
    anchor_day = models.PositiveSmallIntegerField(help_text="The day of the month it renews on.")
    next_due_date = models.DateField()
    ordered_on = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(
        max_length=255,
        blank=True,
        help_text="What renewal invoices call it (set by a change of plan); empty: the name it "
        "was ordered under.",
    )
    no_suspension_until = models.DateField(
        null=True,
        blank=True,
        help_text="An admin's exemption: dunning suspends nothing until then.",
    )
    suspended_for = models.ForeignKey(
        "billing.Renewal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Dunning suspended the service for this unpaid renewal; paying it restores it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("next_due_date", "id")

    def __str__(self) -> str:
        return (
            f"Service #{self.service_id}: {format_money(self.recurring_price)} "
            f"{self.get_cycle_display()}"
        )

    @property
    def plan_description(self) -> str:
        """What it is called now: ``description`` after a change of plan, else as ordered."""
        return self.description or self.ordered_on.description


class Renewal(models.Model):
    """One period of a subscription, invoiced once: the database refuses a second renewal of
    the same (subscription, period) unless the first one's invoice was cancelled (superseded).
    Paying its invoice moves the subscription's next due date from ``period_start`` to
    ``period_end`` — exactly one cycle, once."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="renewals"
    )
    period_start = models.DateField(help_text="The due date it pays for.")
    period_end = models.DateField(help_text="The next due date once it is paid.")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="renewal")
    superseded = models.BooleanField(
        default=False, help_text="Its invoice was cancelled: the period may be invoiced again."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("period_start", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "period_start"),
                condition=models.Q(superseded=False),
                name="one_renewal_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription}: {self.period_start} to {self.period_end}"


class BillingEvent(models.Model):
    """Audit trail: one row per billing change, written in the change's transaction."""

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="billing_events"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.action


class StripeCheckoutStatus(models.TextChoices):
    CREATING = "creating", "Creating"  # saved with its key; Stripe's session not known yet
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"


class StripeCheckout(models.Model):
    """One attempt to pay an invoice through Stripe Checkout.

    Saved with its idempotency key *before* Stripe is asked for a Checkout Session, so asking
    again after a timeout, a lost answer or a second click is the same request to Stripe and
    opens one session, not two. Its status only moves forward; ``paid`` (Stripe's verified word)
    wins over everything.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="stripe_checkouts")
    amount = MoneyField(help_text="The balance due it was opened for.")
    currency = models.CharField(max_length=3)
    amount_minor = models.PositiveBigIntegerField(
        help_text="The amount Stripe is asked for, in the currency's smallest unit."
    )
    idempotency_key = models.CharField(max_length=80, unique=True, editable=False)
    session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    url = models.TextField(blank=True, help_text="Stripe's page the customer pays on.")
    status = models.CharField(
        max_length=10, choices=StripeCheckoutStatus.choices, default=StripeCheckoutStatus.CREATING
    )
    payment_intent = models.CharField(max_length=255, blank=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_error = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            # Two clicks at once on Pay for the same balance share one attempt (and one key).
            models.UniqueConstraint(
                fields=("invoice", "amount"),
                condition=models.Q(status__in=("creating", "open")),
                name="one_live_stripe_checkout_per_amount",
            )
        ]

    def __str__(self) -> str:
        return f"Stripe checkout #{self.pk} ({self.status})"


class StripeEvent(models.Model):
    """A Stripe webhook event handled. Written in the transaction of the event's effect and
    unique on Stripe's event id, so the same event delivered again changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    outcome = models.CharField(max_length=255, blank=True, help_text="What handling it did.")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-received_at", "-id")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RefundMethod(models.TextChoices):
    CREDIT = "credit", "To the credit balance"
    STRIPE = "stripe", "Back to the card (Stripe)"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"  # saved with its key; the gateway has not confirmed
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PaymentRefund(models.Model):
    """Money of a payment given back, to the credit balance or through the gateway.

    Saved before the gateway is asked (its key is the gateway's idempotency key), and counted
    against the payment while requested, so two refunds at once can never give back more than
    was paid.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField()
    method = models.CharField(max_length=10, choices=RefundMethod.choices)
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    idempotency_key = models.CharField(max_length=120, unique=True, editable=False)
    gateway_refund_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_positive")
        ]

    def __str__(self) -> str:
        return f"Refund of {format_money(self.amount)} ({self.get_status_display()})"


def _first_of_this_month() -> date:
    """The first of the current UTC month: usage is billed by the panel's (UTC) months."""
    return clock.now().astimezone(UTC).date().replace(day=1)


class UsagePricing(models.Model):
    """What a metered product's traffic costs: per GB (10^9 bytes) downloaded and uploaded
    beyond what each UTC calendar month includes. Billed after each month ends, on its own
    invoice (``services/usage.py``); only the directions the product meters are billed."""

    product = models.OneToOneField(
        "provisioning.Product", on_delete=models.PROTECT, related_name="usage_pricing"
    )
    price_per_gb_download = MoneyField(
        "price per GB downloaded", default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    price_per_gb_upload = MoneyField(
        "price per GB uploaded", default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    included_gb_download = models.DecimalField(
        "GB downloaded included a month",
        max_digits=12,
        decimal_places=3,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    included_gb_upload = models.DecimalField(
        "GB uploaded included a month",
        max_digits=12,
        decimal_places=3,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    starts_on = models.DateField(
        default=_first_of_this_month,
        help_text="Traffic is billed from this date's calendar month on; earlier months never.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "usage pricing"
        verbose_name_plural = "usage pricing"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_per_gb_download__gte=0)
                & models.Q(price_per_gb_upload__gte=0)
                & models.Q(included_gb_download__gte=0)
                & models.Q(included_gb_upload__gte=0),
                name="usage_pricing_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"Usage pricing of {self.product}"

    def clean(self) -> None:
        if self.product_id is not None and not self.product.typed_settings.metered:
            raise ValidationError(
                {"product": "This product's traffic is not counted: turn on its download or "
                 "upload metric first."}
            )  # fmt: skip


class UsageCharge(models.Model):
    """One UTC calendar month of a subscription's traffic, billed once: the database refuses a
    second row for the same (subscription, year, month). ``invoice`` is empty when nothing was
    billable; ``from_snapshot`` says the panel could not be read and the last stored reading
    (taken at ``read_at``) was billed."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="usage_charges"
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    download_bytes = models.BigIntegerField()
    upload_bytes = models.BigIntegerField()
    read_at = models.DateTimeField(help_text="When the figures billed were read from the panel.")
    from_snapshot = models.BooleanField(
        default=False, help_text="The panel could not be reached: the last reading was billed."
    )
    amount = MoneyField(help_text="Before tax.")
    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="usage_charge"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-year", "-month", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "year", "month"), name="one_usage_charge_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"Service #{self.subscription.service_id} traffic {self.year}-{self.month:02d}"


class CancellationWhen(models.TextChoices):
    END_OF_PERIOD = "end_of_period", "At the end of the paid period"
    IMMEDIATELY = "immediately", "Immediately"


class CancellationStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DONE = "done", "Done"


OPEN_CANCELLATION = (CancellationStatus.REQUESTED, CancellationStatus.APPROVED)


class CancellationRequest(models.Model):
    """A customer's request to end a service, at the end of its paid period or at once
    (``services/cancellations.py``). At most one is open (requested or approved) per
    subscription: the database refuses a second. An approved one stops the renewals and
    terminates the service on ``terminate_on``."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="cancellations"
    )
    when = models.CharField(max_length=16, choices=CancellationWhen.choices)
    reason = models.CharField(max_length=500, blank=True, help_text="The customer's words.")
    status = models.CharField(
        max_length=12, choices=CancellationStatus.choices, default=CancellationStatus.REQUESTED
    )
    terminate_on = models.DateField(help_text="The day the service is terminated.")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    admin_note = models.CharField(
        max_length=500, blank=True, help_text="Shown to the customer when a request is rejected."
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("subscription",),
                condition=models.Q(status__in=["requested", "approved"]),
                name="one_open_cancellation_per_subscription",
            )
        ]

    def __str__(self) -> str:
        return f"Cancellation of service #{self.subscription.service_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CANCELLATION


class PlanChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for payment"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"


class PlanChange(models.Model):
    """A customer's switch of a subscription to another product for the rest of its paid time
    (``services/plan_changes.py``), with its proration: ``credit`` for the unused days of the
    old price, ``charge`` for the same days of the new one. What is due is invoiced
    (``invoice``; paying it applies the change), a credit goes to the credit balance and the
    change is applied at once. At most one is pending per subscription: the database refuses a
    second."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="plan_changes"
    )
    from_product = models.ForeignKey(
        "provisioning.Product", on_delete=models.PROTECT, related_name="+"
    )
    from_price = MoneyField(help_text="The recurring price before the change.")
    to_product = models.ForeignKey(
        "provisioning.Product", on_delete=models.PROTECT, related_name="+"
    )
    to_price = MoneyField(help_text="The recurring price from the change on.")
    description = models.CharField(max_length=255, help_text="What renewals call the new plan.")
    period_start = models.DateField(help_text="The start of the paid period the change is in.")
    period_end = models.DateField(help_text="The next due date: the end of the paid time.")
    days_left = models.PositiveIntegerField(help_text="Days from the change to the period's end.")
    days_in_period = models.PositiveIntegerField()
    credit = MoneyField(help_text="For the unused days of the old plan.")
    charge = MoneyField(help_text="For the same days of the new plan.")
    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="plan_change"
    )
    status = models.CharField(
        max_length=10, choices=PlanChangeStatus.choices, default=PlanChangeStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("subscription",),
                condition=models.Q(status="pending"),
                name="one_pending_plan_change_per_subscription",
            )
        ]

    def __str__(self) -> str:
        return f"Plan change of service #{self.subscription.service_id} ({self.status})"

    @property
    def due(self) -> Decimal:
        """What the change costs (negative: what it credits)."""
        return self.charge - self.credit
