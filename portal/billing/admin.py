"""Billing in the admin: invoices (issue by hand, record a payment, cancel, credit note),
payments, tax rates, credit, the audit trail. Nothing here saves a money row itself: every
button is a confirmation page whose POST calls a billing service, and paid invoices are never
edited or deleted."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.forms import formset_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from portal.accounts.models import Customer
from portal.billing.cycles import BillingCycle
from portal.billing.models import (
    BillingEvent,
    CancellationRequest,
    CancellationStatus,
    CreditEntry,
    Gateway,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentRefund,
    PlanChange,
    RefundMethod,
    RefundStatus,
    Renewal,
    StripeCheckout,
    StripeEvent,
    Subscription,
    TaxRate,
    UsageCharge,
    UsagePricing,
)
from portal.billing.money import MoneyFormField, format_money, smallest_amount
from portal.billing.services import (
    LineSpec,
    credit_note_issue,
    invoice_cancel,
    invoice_create,
    invoice_email_again,
    payment_record,
)
from portal.billing.services.cancellations import cancellation_approve, cancellation_reject
from portal.billing.services.dunning import suspension_exempt
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.refunds import payment_refund, payment_refund_retry, refundable
from provisioning.models import Product, Service


def money_shown(field: str, label: str = "") -> Callable[[Any], str]:
    """An amount column as invoices show it (``23.98 EUR``), not at the column's three
    decimals (``23.980``)."""

    @admin.display(description=label or field.replace("_", " "), ordering=field)
    def shown(obj: Any) -> str:
        value = getattr(obj, field)
        return "-" if value is None else format_money(value)

    return shown


def object_for_button(
    model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, *, allowed: bool
) -> Any:
    """The object a confirmation-page button acts on (GET shows the page, POST acts): 404 for
    another method or no such object, 403 when the user is not ``allowed``."""
    if request.method not in ("GET", "POST"):
        raise Http404
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        raise Http404(f"No such {model_admin.opts.verbose_name}.")
    if not allowed:
        raise PermissionDenied
    return obj


def confirm_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    obj: Any,
    *,
    title: str,
    question: str,
    details: list[str],
    form: forms.Form,
    submit: str,
    cancel_url: str,
) -> TemplateResponse:
    """The admin's confirmation page for a button: what it will do, its form, a cancel link;
    its POST comes back to the view that rendered it."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "object": obj,
        "question": question,
        "details": details,
        "form": form,
        "submit_label": submit,
        "cancel_url": cancel_url,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/provisioning/confirm_action.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody edits from the admin (it changes only through the services: billing's,
    the store's)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = (
        "description", "quantity", money_shown("unit_price"), money_shown("amount"), "product",
        "cycle",
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = (
        "received_at", "gateway", "reference", money_shown("amount"), money_shown("refunded"),
        "recorded_by",
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecordPaymentForm(forms.Form):
    amount = MoneyFormField(min_value=smallest_amount())
    reference = forms.CharField(
        max_length=200, help_text="The bank's reference of the transfer (recorded once)."
    )


class CreditNoteForm(forms.Form):
    amount = MoneyFormField(min_value=smallest_amount(), help_text="Before tax.")
    reason = forms.CharField(max_length=200)
    to_credit_balance = forms.BooleanField(
        required=False, initial=True, label="Add the credit note's total to the customer's credit"
    )


class CancellationDecisionForm(forms.Form):
    note = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail; a rejection's note is shown to the customer.",
    )  # fmt: skip


class ExemptForm(forms.Form):
    until = forms.DateField(
        required=False,
        help_text="YYYY-MM-DD; empty lifts the exemption.",
        label="No suspension until",
    )
    reason = forms.CharField(max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200)


class IssueForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.select_related("user"))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    email_customer = forms.BooleanField(
        required=False, initial=True, label="Email the invoice to the customer"
    )


class IssueLineForm(forms.Form):
    description = forms.CharField(max_length=255)
    quantity = forms.IntegerField(min_value=1, initial=1)
    unit_price = MoneyFormField()
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        required=False,
        help_text="With a product, paying the line orders that many services of it.",
    )
    cycle = forms.ChoiceField(choices=[("", "—"), *BillingCycle.choices], required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("product") and not data.get("cycle"):
            raise forms.ValidationError("A line that orders services needs a billing cycle.")
        return data


IssueLineFormSet = formset_factory(IssueLineForm, extra=3, min_num=1, validate_min=True)


class AddsFundsFilter(admin.SimpleListFilter):
    """An "add funds" invoice (a line that tops up credit) is not a debt: dunning and the
    dashboard's overdue figure leave it out, and its link filters the same way."""

    title = "adds funds"
    parameter_name = "adds_funds"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return (("yes", "Adds funds"), ("no", "Services and charges"))

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(lines__adds_credit=True).distinct()
        if self.value() == "no":
            return queryset.exclude(lines__adds_credit=True)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__", "customer", "kind", "status", money_shown("total"), money_shown("amount_paid"),
        "issued_at",
    )  # fmt: skip
    list_filter = ("status", "kind", "reverse_charge", AddsFundsFilter)
    search_fields = ("number", "customer__user__email", "customer__user__username")
    list_select_related = ("customer__user",)
    date_hierarchy = "issued_at"
    inlines = (InvoiceLineInline, PaymentInline)
    readonly_fields = (
        "number", "kind", "status", "customer", "currency", money_shown("subtotal"), "tax_label",
        money_shown("tax_amount"), money_shown("total"), money_shown("amount_paid"),
        "credited_invoice", "issued_at", "due_at", "paid_at",
        "cancelled_at", "buyer", "seller", "notes",
    )  # fmt: skip
    fields = readonly_fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("billing.view_invoice")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("billing.add_invoice")

    @staticmethod
    def may_act(request: HttpRequest) -> bool:
        return request.user.has_perm("billing.change_invoice")

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path(
                "<path:object_id>/pay/", view(self.record_payment_view), name="billing_invoice_pay"
            ),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="billing_invoice_cancel"),
            path("<path:object_id>/resend/", view(self.resend_view), name="billing_invoice_resend"),
            path(
                "<path:object_id>/credit-note/",
                view(self.credit_note_view),
                name="billing_invoice_credit_note",
            ),
        ]
        return urls + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            may_act = self.may_act(request)
            context["invoice_actions"] = [
                (name, label)
                for name, label, allowed in (
                    ("billing_invoice_pay", "Record a payment", obj.status == "unpaid"),
                    ("billing_invoice_cancel", "Cancel", obj.status == "unpaid"),
                    ("billing_invoice_credit_note", "Credit note", obj.status == "paid"),
                    ("billing_invoice_resend", "Email it again", obj.status != "cancelled"),
                )
                if allowed and may_act and obj.kind == "invoice"
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Issue by hand ------------------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form, lines = IssueForm(data), IssueLineFormSet(data, prefix="lines")
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            specs = [_line_spec(line) for line in lines.cleaned_data if line]
            try:
                invoice = invoice_create(
                    customer=form.cleaned_data["customer"],
                    lines=specs,
                    actor=request.user,
                    notes=form.cleaned_data["notes"],
                    notify=form.cleaned_data["email_customer"],
                )
            except (BillingRefused, ValueError) as exc:
                form.add_error(None, getattr(exc, "message", str(exc)))
            else:
                self.log_addition(request, invoice, [{"added": {}}])
                self.message_user(request, f"{invoice} issued.", messages.SUCCESS)
                return redirect(reverse("admin:billing_invoice_change", args=[invoice.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Issue an invoice by hand",
            "opts": self.opts,
            "form": form,
            "lines": lines,
            "media": self.media + form.media + lines.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/billing/invoice/issue.html", context)

    # Buttons --------------------------------------------------------------------------------------

    def _invoice_or_404(self, request: HttpRequest, object_id: str) -> Invoice:
        return object_for_button(self, request, object_id, allowed=self.may_act(request))

    def record_payment_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A bank transfer received: recorded once per bank reference."""
        invoice = self._invoice_or_404(request, object_id)
        form = RecordPaymentForm(request.POST or None, initial={"amount": invoice.balance_due})
        if request.method == "POST" and form.is_valid():
            return self._act(
                request,
                invoice,
                lambda: payment_record(
                    invoice=invoice,
                    amount=form.cleaned_data["amount"],
                    gateway=Gateway.BANK_TRANSFER,
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                ),
                done="Payment recorded.",
            )
        return self._confirm(request, invoice, "Record a bank transfer", form, "Record it")

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        invoice = self._invoice_or_404(request, object_id)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._act(
                request,
                invoice,
                lambda: invoice_cancel(
                    invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                done="Invoice cancelled.",
            )
        return self._confirm(request, invoice, "Cancel this unpaid invoice?", form, "Cancel it")

    def credit_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        invoice = self._invoice_or_404(request, object_id)
        form = CreditNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self._act(
                request,
                invoice,
                lambda: credit_note_issue(
                    invoice=invoice,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    to_credit_balance=form.cleaned_data["to_credit_balance"],
                ),
                done="Credit note issued.",
            )
        return self._confirm(request, invoice, "Issue a credit note", form, "Issue it")

    def resend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        invoice = self._invoice_or_404(request, object_id)
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            address = invoice.customer.user.email
            return self._act(
                request,
                invoice,
                lambda: invoice_email_again(invoice=invoice, actor=request.user),
                done=f"Invoice emailed again to {address}.",
            )
        question = f"Email this invoice again to {invoice.customer.user.email or 'the customer'}?"
        return self._confirm(request, invoice, question, form, "Send it")

    def _act(self, request: HttpRequest, invoice: Invoice, action, *, done: str) -> HttpResponse:
        try:
            action()
        except BillingRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.log_change(request, invoice, done)
            self.message_user(request, done, messages.SUCCESS)
        return redirect(reverse("admin:billing_invoice_change", args=[invoice.pk]))

    def _confirm(
        self, request: HttpRequest, invoice: Invoice, question: str, form: forms.Form, submit: str
    ) -> TemplateResponse:
        return confirm_page(
            self, request, invoice, title=question, question=question,
            details=[
                f"Total {format_money(invoice.total)}, paid {format_money(invoice.amount_paid)}."
            ],
            form=form, submit=submit,
            cancel_url=reverse("admin:billing_invoice_change", args=[invoice.pk]),
        )  # fmt: skip


def _line_spec(line: dict[str, Any]) -> LineSpec:
    return LineSpec(
        description=line["description"],
        unit_price=line["unit_price"],
        quantity=line["quantity"],
        product=line.get("product"),
        cycle=line.get("cycle") or "",
    )


class RefundForm(forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput)
    amount = MoneyFormField(min_value=smallest_amount())
    method = forms.ChoiceField(choices=RefundMethod.choices, widget=forms.RadioSelect)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, payment: Payment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if payment.gateway != Gateway.STRIPE:
            self.fields["method"].choices = [
                (RefundMethod.CREDIT, RefundMethod.CREDIT.label)
            ]  # fmt: skip


class RefundInline(admin.TabularInline):
    model = PaymentRefund
    fields = ("created_at", money_shown("amount"), "method", "status", "reason", "error", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at", "customer", "invoice", "gateway", money_shown("amount"),
        money_shown("refunded"),
    )  # fmt: skip
    list_filter = ("gateway",)
    search_fields = ("reference", "invoice__number", "customer__user__email")
    list_select_related = ("customer__user", "invoice")
    inlines = (RefundInline,)
    change_form_template = "admin/billing/payment/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        refund = path(
            "<path:object_id>/refund/", view(self.refund_view), name="billing_payment_refund"
        )
        return [refund, *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["may_refund"] = (
            obj is not None
            and request.user.has_perm("billing.add_paymentrefund")
            and obj.gateway != Gateway.CREDIT
            and refundable(obj) > 0
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Give money of a payment back: to the customer's credit, or through Stripe. The form's
        key makes a double submit one refund."""
        allowed = request.user.has_perm("billing.add_paymentrefund")
        payment = object_for_button(self, request, object_id, allowed=allowed)
        back = reverse("admin:billing_payment_change", args=[payment.pk])
        left = refundable(payment)
        form = RefundForm(
            request.POST if request.method == "POST" else None,
            payment=payment,
            initial={"key": uuid.uuid4(), "amount": left, "method": RefundMethod.CREDIT},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                refund = payment_refund(
                    payment=payment,
                    amount=data["amount"],
                    actor=request.user,
                    to_credit=data["method"] == RefundMethod.CREDIT,
                    key=f"admin:{data['key']}",
                    reason=data["reason"],
                )
            except BillingRefused as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.log_change(
                    request, payment, f"Refund of {format_money(refund.amount)}: {refund.status}."
                )
                self._refund_message(request, refund)
            return redirect(back)
        return confirm_page(
            self, request, payment, title="Refund this payment",
            question="Give money of this payment back?",
            details=[
                f"Paid {format_money(payment.amount)} by {payment.get_gateway_display()}; "
                f"{format_money(left)} can still be refunded.",
                "To credit: added to the customer's credit balance. Through Stripe: back to the "
                "card. The invoice stays paid; correct it with a credit note.",
            ],
            form=form, submit="Refund", cancel_url=back,
        )  # fmt: skip

    def _refund_message(self, request: HttpRequest, refund: PaymentRefund) -> None:
        if refund.status == RefundStatus.REQUESTED:
            self.message_user(
                request,
                "Stripe has not confirmed the refund yet; retry it from the refund's page.",
                messages.WARNING,
            )
        elif refund.status == RefundStatus.DONE:
            self.message_user(request, f"Refunded {format_money(refund.amount)}.", messages.SUCCESS)
        else:
            self.message_user(request, f"Refund not made: {refund.error}", messages.ERROR)


@admin.register(PaymentRefund)
class PaymentRefundAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "payment", money_shown("amount"), "method", "status", "actor")
    list_filter = ("status", "method")
    list_select_related = ("payment", "actor")
    actions = ("retry",)

    @admin.action(description="Ask Stripe again for the selected unconfirmed refunds")
    def retry(self, request: HttpRequest, queryset) -> None:
        if not request.user.has_perm("billing.add_paymentrefund"):
            raise PermissionDenied
        for refund in queryset.filter(status=RefundStatus.REQUESTED):
            self._message_retry(request, payment_refund_retry(refund=refund))

    def _message_retry(self, request: HttpRequest, refund: PaymentRefund) -> None:
        level = messages.SUCCESS if refund.status == RefundStatus.DONE else messages.WARNING
        self.message_user(request, f"{refund}: {refund.get_status_display()}.", level)


@admin.register(StripeCheckout)
class StripeCheckoutAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "invoice", "amount_minor", "currency", "status", "session_id")
    list_filter = ("status",)
    search_fields = ("session_id", "payment_intent", "invoice__number")
    list_select_related = ("invoice",)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "object_id", "outcome", "livemode")
    list_filter = ("type", "livemode")
    search_fields = ("event_id", "object_id")


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ("country", "name", "rate")
    search_fields = ("country", "name")


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "customer", money_shown("amount"), "reason", "invoice")
    search_fields = ("customer__user__email", "reason")
    list_select_related = ("customer__user", "invoice")


class CancellationInline(admin.TabularInline):
    model = CancellationRequest
    fields = ("requested_at", "when", "status", "terminate_on", "reason", "decided_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "service", "customer", "cycle", money_shown("recurring_price"), "next_due_date",
        "no_suspension_until", "suspended_for", "exempt_link",
    )  # fmt: skip
    list_filter = ("cycle",)
    list_select_related = ("service", "customer__user")
    inlines = (CancellationInline,)

    def get_urls(self):
        exempt = path(
            "<path:object_id>/exempt/",
            self.admin_site.admin_view(self.exempt_view),
            name="billing_subscription_exempt",
        )
        return [exempt, *super().get_urls()]

    @admin.display(description="dunning")
    def exempt_link(self, subscription: Subscription) -> str:
        url = reverse("admin:billing_subscription_exempt", args=[subscription.pk])
        return format_html('<a href="{}">Exempt from suspension…</a>', url)

    def exempt_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """No automatic suspension (or termination) of this service until a date; audited."""
        allowed = request.user.has_perm("billing.change_subscription")
        subscription = object_for_button(self, request, object_id, allowed=allowed)
        form = ExemptForm(request.POST or None, initial={"until": subscription.no_suspension_until})
        if request.method == "POST" and form.is_valid():
            until = form.cleaned_data["until"]
            suspension_exempt(
                subscription=subscription, until=until, actor=request.user,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
            done = f"No automatic suspension until {until}." if until else "Exemption lifted."
            self.log_change(request, subscription, done)
            self.message_user(request, done, messages.SUCCESS)
            return redirect(reverse("admin:billing_subscription_changelist"))
        return confirm_page(
            self, request, subscription, title="Exempt from automatic suspension",
            question=f"Exempt {subscription} from automatic suspension?",
            details=[
                "Until the date, dunning neither suspends nor terminates the service; reminders "
                "still go out. An empty date lifts the exemption."
            ],
            form=form, submit="Save",
            cancel_url=reverse("admin:billing_subscription_changelist"),
        )  # fmt: skip


@admin.register(CancellationRequest)
class CancellationRequestAdmin(ReadOnlyAdmin):
    """Customers' cancellations (docs/billing.md, Cancellation): a waiting one is approved or
    rejected from its page; nothing else here changes them."""

    list_display = (
        "requested_at", "subscription", "when", "status", "terminate_on", "decided_by",
        "decide_links",
    )  # fmt: skip
    list_filter = ("status", "when")
    list_select_related = ("subscription", "decided_by")
    search_fields = ("subscription__service__id", "subscription__customer__user__email")
    readonly_fields = ("decide_links",)
    date_hierarchy = "requested_at"

    def get_urls(self):
        decide = [
            path(
                f"<path:object_id>/{verb}/",
                self.admin_site.admin_view(partial(self.decide_view, verb=verb)),
                name=f"billing_cancellationrequest_{verb}",
            )
            for verb in ("approve", "reject")
        ]
        return [*decide, *super().get_urls()]

    @admin.display(description="decide")
    def decide_links(self, cancellation: CancellationRequest) -> str:
        if cancellation.status != CancellationStatus.REQUESTED:
            return "-"
        approve = reverse("admin:billing_cancellationrequest_approve", args=[cancellation.pk])
        reject = reverse("admin:billing_cancellationrequest_reject", args=[cancellation.pk])
        return format_html('<a href="{}">Approve…</a> · <a href="{}">Reject…</a>', approve, reject)

    def decide_view(self, request: HttpRequest, object_id: str, verb: str) -> HttpResponse:
        """Approve or reject a waiting request, after a confirmation page; audited."""
        allowed = request.user.has_perm("billing.change_cancellationrequest")
        cancellation = object_for_button(self, request, object_id, allowed=allowed)
        back = reverse("admin:billing_cancellationrequest_change", args=[cancellation.pk])
        form = CancellationDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decide = cancellation_approve if verb == "approve" else cancellation_reject
            try:
                decided = decide(
                    cancellation=cancellation, actor=request.user, note=form.cleaned_data["note"]
                )
            except BillingRefused as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done = f"{decided.get_status_display()}: {decided}."
                self.log_change(request, decided, done)
                self.message_user(request, done, messages.SUCCESS)
            return redirect(back)
        return confirm_page(
            self, request, cancellation, title=f"{verb.capitalize()} this cancellation",
            question=f"{verb.capitalize()} the cancellation of service "
            f"#{cancellation.subscription.service_id}?",
            details=self._decision_details(cancellation, verb),
            form=form, submit=verb.capitalize(), cancel_url=back,
        )  # fmt: skip

    def _decision_details(self, cancellation: CancellationRequest, verb: str) -> list[str]:
        asked = (
            f"Asked on {cancellation.requested_at:%Y-%m-%d}: {cancellation.get_when_display()}"
            f" (terminate on {cancellation.terminate_on}). Reason: {cancellation.reason or '-'}"
        )
        if verb == "approve":
            return [
                asked,
                "Approving stops the renewals, cancels the unpaid renewal invoices of time after "
                "that day, emails the customer, and terminates the service on that day (today: "
                "at once).",
            ]
        return [asked, "The customer sees the note on the service's page; renewals go on."]


@admin.register(Renewal)
class RenewalAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "period_start", "period_end", "invoice", "created_at")
    list_select_related = ("subscription", "invoice")
    date_hierarchy = "period_start"


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    """Customers' changes of plan with their proration (docs/billing.md, Changing plan); made
    and applied only by billing's services."""

    list_display = (
        "subscription", "from_product", "to_product", money_shown("credit"),
        money_shown("charge"), "days_left", "days_in_period", "invoice", "status", "created_at",
        "applied_at",
    )  # fmt: skip
    list_filter = ("status",)
    list_select_related = ("subscription", "from_product", "to_product", "invoice")
    date_hierarchy = "created_at"


@admin.register(UsagePricing)
class UsagePricingAdmin(admin.ModelAdmin):
    """What a metered product's traffic costs, billed after each calendar month
    (docs/billing.md, Usage billing)."""

    list_display = (
        "product", money_shown("price_per_gb_download"), "included_gb_download",
        money_shown("price_per_gb_upload"), "included_gb_upload", "starts_on",
    )  # fmt: skip
    list_select_related = ("product",)
    search_fields = ("product__name",)


@admin.register(UsageCharge)
class UsageChargeAdmin(ReadOnlyAdmin):
    list_display = (
        "subscription", "year", "month", money_shown("amount"), "from_snapshot", "read_at",
        "invoice",
    )  # fmt: skip
    list_filter = ("from_snapshot", "year")
    list_select_related = ("subscription", "invoice")


@admin.register(BillingEvent)
class BillingEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "customer", "invoice", "actor")
    list_filter = ("action",)
    list_select_related = ("customer__user", "invoice", "actor")


class InvoiceForCustomerInline(admin.TabularInline):
    model = Invoice
    fk_name = "customer"
    fields = (
        "__str__", "kind", "status", money_shown("total"), money_shown("amount_paid"), "issued_at"
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CreditForCustomerInline(admin.TabularInline):
    model = CreditEntry
    fields = ("created_at", money_shown("amount"), "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceForCustomerInline(admin.TabularInline):
    model = Service
    fields = ("__str__", "product", "status", "server", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def add_customer_inlines(site: admin.AdminSite) -> None:
    """The customer's page shows their services, invoices and credit: accounts sits under
    provisioning and billing, so billing adds them to its admin instead of accounts importing
    either."""
    customer_admin = site._registry.get(Customer)
    if customer_admin is None:
        return
    for inline in (ServiceForCustomerInline, InvoiceForCustomerInline, CreditForCustomerInline):
        if inline not in customer_admin.inlines:
            customer_admin.inlines = (*customer_admin.inlines, inline)


add_customer_inlines(admin.site)
