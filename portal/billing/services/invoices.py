"""Issuing invoices (proforma until paid), cancelling unpaid ones, and credit notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from portal.accounts.models import Customer
from portal.billing import events
from portal.billing.emails import invoice_issued_send
from portal.billing.models import (
    CreditEntry,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PlanChange,
    PlanChangeStatus,
    Renewal,
    TaxRate,
)
from portal.billing.money import ZERO, currency, money
from portal.billing.parties import buyer_details, seller_details
from portal.billing.selectors import card_checkout_live
from portal.billing.services.numbering import next_number
from portal.billing.tax import TaxTreatment, eu_vat_id_of, line_amount, tax_treatment, totals
from portal.billing.vies import vies_confirms
from portal.core.exceptions import DomainError
from provisioning.models import Product

PREPAYMENT = TaxTreatment(ZERO, "Prepayment, no tax")


class BillingRefused(DomainError):
    """A billing request that cannot be carried out; the message says why (nothing changed)."""

    code = "billing_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LineSpec:
    """A line to invoice. With ``product``, paying it orders ``quantity`` services of it, billed
    ``recurring_price`` each ``cycle`` from then on."""

    description: str
    unit_price: Decimal
    quantity: int = 1
    product: Product | None = None
    cycle: str = ""
    recurring_price: Decimal | None = None
    adds_credit: bool = False


def invoice_create(
    *,
    customer: Customer,
    lines: list[LineSpec],
    actor: Any,
    source_key: str | None = None,
    notes: str = "",
    notify: bool = False,
    due_at: datetime | None = None,
) -> Invoice:
    """A proforma invoice for ``lines``, taxed for the customer as they are now; its final
    number comes when it is paid. The same ``source_key`` again returns the first invoice.
    ``notify`` emails it to the customer (recorded with it, so sent once, when it commits).
    ``due_at`` defaults to ``BILLING_INVOICE_DUE_DAYS`` from now."""
    if source_key and (existing := Invoice.objects.filter(source_key=source_key).first()):
        return existing
    if not lines:
        raise BillingRefused("An invoice needs at least one line.")
    if len({line.adds_credit for line in lines}) > 1:
        raise BillingRefused("Credit top-ups are invoiced on their own.")
    treatment = PREPAYMENT if lines[0].adds_credit else _treatment(customer)
    amounts = [line_amount(line.quantity, money(line.unit_price)) for line in lines]
    invoice_totals = totals(amounts, treatment)
    now = timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.create(
            customer=customer,
            source_key=source_key or None,
            currency=currency(),
            subtotal=invoice_totals.subtotal,
            tax_rate=treatment.rate,
            tax_label=treatment.label,
            reverse_charge=treatment.reverse_charge,
            tax_amount=invoice_totals.tax,
            total=invoice_totals.total,
            notes=notes,
            issued_at=now,
            due_at=due_at or now + timedelta(days=settings.BILLING_INVOICE_DUE_DAYS),
        )
        InvoiceLine.objects.bulk_create(
            _line(invoice, position, spec, amount)
            for position, (spec, amount) in enumerate(zip(lines, amounts, strict=True), start=1)
        )
        events.record(
            customer_id=customer.pk, invoice=invoice, actor=actor, action="invoice_issued",
            total=invoice.total,
        )  # fmt: skip
        if notify:
            invoice_issued_send(invoice=invoice)
    return invoice


def _line(invoice: Invoice, position: int, spec: LineSpec, amount: Decimal) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        description=spec.description,
        quantity=spec.quantity,
        unit_price=money(spec.unit_price),
        amount=amount,
        product=spec.product,
        cycle=spec.cycle,
        recurring_price=None if spec.recurring_price is None else money(spec.recurring_price),
        adds_credit=spec.adds_credit,
    )


def invoices_retax_unpaid(*, customer: Customer) -> int:
    """Tax again the customer's proformas whose payment has not started, as their billing
    details now say (called when those change). The buyer is copied when payment starts
    (``payments.buyer_fix``), so an invoice's tax matches the buyer it names and the amount a
    customer is paying does not change under them. Returns how many changed."""
    unpaid = Invoice.objects.filter(
        customer=customer,
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.UNPAID,
        amount_paid=0,
    ).exclude(lines__adds_credit=True)
    pks = list(unpaid.values_list("pk", flat=True))
    if not pks:
        return 0
    offline = _treatment(customer, online=False)
    treatment: TaxTreatment | None = None
    changed = 0
    for pk in pks:
        with transaction.atomic():
            invoice = unpaid.select_for_update().filter(pk=pk).first()
            if invoice is None or _payment_under_way(invoice):
                continue
            if _taxed(invoice) == offline and not offline.reverse_charge:
                continue  # the same, and VIES (which can only take reverse charge away) moot
            treatment = treatment or _treatment(customer)
            if _taxed(invoice) != treatment:
                _retax(invoice, treatment)
                changed += 1
    return changed


def _payment_under_way(invoice: Invoice) -> bool:
    """A card checkout that may still be paid holds the buyer it copied; a lapsed one lets
    go of it (the next checkout or payment copies the buyer afresh)."""
    if not invoice.buyer:
        return False
    if card_checkout_live(invoice):
        return True
    invoice.buyer = {}
    invoice.save(update_fields=["buyer"])
    return False


def _taxed(invoice: Invoice) -> TaxTreatment:
    return TaxTreatment(invoice.tax_rate, invoice.tax_label, invoice.reverse_charge)


def _retax(invoice: Invoice, treatment: TaxTreatment) -> None:
    before = invoice.total
    new = totals(invoice.lines.values_list("amount", flat=True), treatment)
    invoice.subtotal, invoice.tax_amount, invoice.total = new.subtotal, new.tax, new.total
    invoice.tax_rate, invoice.tax_label = treatment.rate, treatment.label
    invoice.reverse_charge = treatment.reverse_charge
    invoice.save(
        update_fields=[
            "subtotal", "tax_amount", "total", "tax_rate", "tax_label", "reverse_charge"
        ]
    )  # fmt: skip
    events.record(
        customer_id=invoice.customer_id, invoice=invoice, action="invoice_retaxed",
        tax=treatment.label, total_before=before, total=invoice.total,
    )  # fmt: skip


def gross_for(customer: Customer, net: Decimal) -> Decimal:
    """``net`` with the tax an invoice of that subtotal would add for the customer now (none for
    a reverse-charge or tax-exempt customer): what a credit owed for a net amount is worth."""
    return totals([money(net)], _treatment(customer)).total


def _treatment(customer: Customer, *, online: bool = True) -> TaxTreatment:
    """The customer's tax now; ``online=False`` skips the optional VIES check (a re-tax asks
    VIES only when the offline answer differs from the invoice's)."""
    buyer = buyer_details(customer)
    vat_id = _registered_vat_id(buyer["vat_id"], buyer["country"]) if online else buyer["vat_id"]
    return tax_treatment(
        seller_country=seller_details()["country"],
        buyer_country=buyer["country"],
        buyer_vat_id=vat_id,
        tax_exempt=buyer["tax_exempt"],
        rate_for=_rate_for,
    )


def _registered_vat_id(vat_id: str, country: str) -> str:
    """``vat_id``, unless the online check is on and VIES says it is not registered."""
    checked_online = settings.BILLING_VIES_CHECK and eu_vat_id_of(vat_id, country)
    return "" if checked_online and vies_confirms(vat_id) is False else vat_id


def _rate_for(country: str) -> tuple[Decimal, str] | None:
    rate = TaxRate.objects.filter(country=country.upper()).first()
    return (rate.rate, rate.name) if rate else None


def invoice_email_again(*, invoice: Invoice, actor: Any) -> None:
    """Email ``invoice`` to its customer again (an admin's resend); refused for a cancelled one
    or a customer without an email address."""
    if invoice.status == InvoiceStatus.CANCELLED:
        raise BillingRefused("A cancelled invoice is not sent.")
    with transaction.atomic():
        if not invoice_issued_send(invoice=invoice, again=True):
            raise BillingRefused("The customer has no email address: nothing was sent.")
        events.record(
            customer_id=invoice.customer_id, invoice=invoice, actor=actor, action="invoice_emailed"
        )


def invoice_cancel(
    *, invoice: Invoice, actor: Any, reason: str, credit_paid: bool = False
) -> Invoice:
    """Cancel an unpaid invoice nothing was paid on (money received is refunded or credited
    first; ``credit_paid`` credits what was paid on it here). Cancelling again changes nothing.
    A cancelled renewal lets its period be invoiced again; a plan change's pending change is
    cancelled with it."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status == InvoiceStatus.CANCELLED:
            return locked
        if locked.status != InvoiceStatus.UNPAID or (locked.amount_paid > 0 and not credit_paid):
            raise BillingRefused(
                "Only an unpaid invoice with nothing paid on it can be cancelled; correct a paid "
                "one with a credit note."
            )
        if locked.amount_paid > 0:
            CreditEntry.objects.create(
                customer_id=locked.customer_id,
                amount=locked.amount_paid,
                reason=f"Paid on the cancelled {locked}",
                invoice=locked,
            )
        locked.status = InvoiceStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        Renewal.objects.filter(invoice=locked).update(superseded=True)
        PlanChange.objects.filter(invoice=locked, status=PlanChangeStatus.PENDING).update(
            status=PlanChangeStatus.CANCELLED
        )
        events.record(
            customer_id=locked.customer_id, invoice=locked, actor=actor, action="invoice_cancelled",
            reason=reason,
        )  # fmt: skip
    return locked


def credit_note_issue(
    *, invoice: Invoice, amount: Decimal, reason: str, actor: Any, to_credit_balance: bool
) -> Invoice:
    """A credit note (its own number series) for ``amount`` before tax of a paid invoice, taxed
    as that invoice was; ``to_credit_balance`` also adds its total to the customer's credit."""
    net = money(amount)
    if net <= 0:
        raise BillingRefused("A credit note is for an amount above zero.")
    with transaction.atomic():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.kind != InvoiceKind.INVOICE or original.status != InvoiceStatus.PAID:
            raise BillingRefused("Only a paid invoice can be credited.")
        credited = original.credit_notes.aggregate(total=Sum("subtotal"))["total"] or ZERO
        if net > original.subtotal - credited:
            raise BillingRefused(
                f"At most {original.subtotal - credited} of {original.number} is left to credit."
            )
        treatment = TaxTreatment(original.tax_rate, original.tax_label, original.reverse_charge)
        note_totals = totals([net], treatment)
        now = timezone.now()
        note = Invoice.objects.create(
            customer=original.customer,
            kind=InvoiceKind.CREDIT_NOTE,
            status=InvoiceStatus.ISSUED,
            number=next_number(InvoiceKind.CREDIT_NOTE, now),
            currency=original.currency,
            subtotal=note_totals.subtotal,
            tax_rate=original.tax_rate,
            tax_label=original.tax_label,
            reverse_charge=original.reverse_charge,
            tax_amount=note_totals.tax,
            total=note_totals.total,
            credited_invoice=original,
            buyer=original.buyer,
            seller=original.seller,
            notes=reason,
            issued_at=now,
            due_at=now,
            paid_at=now,
        )
        InvoiceLine.objects.create(
            invoice=note,
            position=1,
            description=f"Credit for {original.number}: {reason}",
            unit_price=net,
            amount=net,
        )
        if to_credit_balance:
            CreditEntry.objects.create(
                customer=original.customer,
                amount=note.total,
                reason=f"Credit note {note.number}",
                invoice=note,
            )
        events.record(
            customer_id=original.customer_id, invoice=original, actor=actor,
            action="credit_note_issued", credit_note=note.number, total=note.total,
        )  # fmt: skip
    return note
