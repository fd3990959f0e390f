"""The customer's billing pages: invoices (view, pay, PDF), the credit balance, and a service's
cancellation (asked and withdrawn from the card on the service's page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.billing.documents import document_context, invoice_pdf, pdf_filename
from portal.billing.forms import AddFundsForm, CancellationForm
from portal.billing.gateways import gateways
from portal.billing.models import (
    OPEN_CANCELLATION,
    CancellationRequest,
    CancellationStatus,
    Invoice,
    InvoiceStatus,
    Subscription,
)
from portal.billing.selectors import customer_credit_entries, customer_invoice, customer_invoices
from portal.billing.services import (
    LineSpec,
    cancellations,
    credit_apply,
    credit_balance,
    invoice_create,
)
from portal.billing.services.invoices import BillingRefused
from portal.core import clock, ratelimit
from portal.core.http import no_store, too_many_requests
from provisioning.selectors import customer_service

# A PDF is rendered afresh each time, the dearest page a customer can ask for (weasyprint: tens of
# milliseconds of CPU for a short invoice, more for a long one): plenty for a person.
PDF_RATE_LIMIT = 20
PDF_RATE_WINDOW = 60
TOO_MANY_PDFS = "Too many PDFs in a short time. Please wait a minute and try again."
# Each request for funds makes an invoice.
ADD_FUNDS_RATE_LIMIT = 10
ADD_FUNDS_RATE_WINDOW = 3600
TOO_MANY_ADD_FUNDS = (
    "You have asked to add funds many times in the last hour. Please pay one of the invoices "
    "already made, or try again later."
)
# The credit page (and the API) list this many of the latest movements.
CREDIT_ENTRIES_SHOWN = 100


def _own_invoice(request: HttpRequest, pk: int) -> Invoice:
    invoice = customer_invoice(user=request.user, invoice_id=pk)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = customer_invoices(user=request.user)
    return render(request, "billing/invoice_list.html", {"invoices": invoices})


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _own_invoice(request, pk)
    payable = invoice.status == InvoiceStatus.UNPAID and invoice.kind == "invoice"
    document = document_context(invoice)
    context = {
        **document,
        "payable": payable,
        "ordered_services": invoice.status == InvoiceStatus.PAID
        and any(line.product_id for line in document["lines"]),
        "gateways": list(gateways().values()) if payable else [],
        "credit": credit_balance(invoice.customer) if payable else 0,
    }
    return no_store(render(request, "billing/invoice_detail.html", context))


@login_required
@require_POST
def invoice_pay(request: HttpRequest, pk: int, gateway: str) -> HttpResponse:
    invoice = _own_invoice(request, pk)
    chosen = gateways().get(gateway)
    if chosen is None:
        raise Http404("No such payment method.")
    if invoice.status != InvoiceStatus.UNPAID:
        messages.info(request, "This invoice is not open for payment.")
        return redirect("billing:invoice_detail", pk=pk)
    return no_store(chosen.start(request, invoice))


@login_required
@require_POST
def invoice_apply_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _own_invoice(request, pk)
    if invoice.status == InvoiceStatus.UNPAID and credit_apply(invoice=invoice, actor=request.user):
        messages.success(request, "Your credit was applied to this invoice.")
    return redirect("billing:invoice_detail", pk=pk)


@login_required
@require_GET
def invoice_pdf_download(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _own_invoice(request, pk)
    if not ratelimit.hit(f"invoice_pdf:{request.user.pk}", PDF_RATE_LIMIT, PDF_RATE_WINDOW):
        refused = HttpResponse(TOO_MANY_PDFS, content_type="text/plain; charset=utf-8")
        return too_many_requests(refused, window=PDF_RATE_WINDOW)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, pdf_filename(invoice))
    return no_store(response)


@login_required
@require_http_methods(["GET", "POST"])
def credit(request: HttpRequest) -> HttpResponse:
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404("Staff accounts have no credit.")
    form = AddFundsForm(request.POST or None)
    limited = False
    if request.method == "POST" and form.is_valid():
        key = f"add_funds:{customer.pk}"
        limited = not ratelimit.hit(key, ADD_FUNDS_RATE_LIMIT, ADD_FUNDS_RATE_WINDOW)
        if limited:
            form.add_error("amount", TOO_MANY_ADD_FUNDS)
    if request.method == "POST" and form.is_valid():
        invoice = invoice_create(
            customer=customer,
            lines=[
                LineSpec(
                    description="Account credit",
                    unit_price=form.cleaned_data["amount"],
                    adds_credit=True,
                )
            ],
            actor=request.user,
        )
        return redirect("billing:invoice_detail", pk=invoice.pk)
    context = {
        "balance": credit_balance(customer),
        "entries": customer_credit_entries(user=request.user)[:CREDIT_ENTRIES_SHOWN],
        "form": form,
    }
    response = render(request, "billing/credit.html", context)
    if limited:
        return too_many_requests(response, window=ADD_FUNDS_RATE_WINDOW)
    return response


def _own_subscription(request: HttpRequest, pk: int) -> Subscription | None:
    """The customer's own service's billing record: 404 for another's service; None (said to
    the customer) for a service billing does not renew."""
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        raise Http404("No such service.")
    subscription = Subscription.objects.filter(service=service).first()
    if subscription is None:
        messages.error(request, "This service has no billing period to cancel; please contact us.")
    return subscription


def _back_to_service(pk: int) -> HttpResponse:
    return redirect(reverse("client_area:service_detail", args=[pk]) + "#cancellation")


@login_required
@require_POST
def cancellation_request(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own_subscription(request, pk)
    form = CancellationForm(request.POST)
    if subscription is None:
        return _back_to_service(pk)
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
        return _back_to_service(pk)
    try:
        cancellation = cancellations.cancellation_request(
            subscription=subscription, when=form.cleaned_data["when"],
            reason=form.cleaned_data["reason"], actor=request.user,
        )  # fmt: skip
    except BillingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _requested_message(cancellation))
    return _back_to_service(pk)


def _requested_message(cancellation: CancellationRequest) -> str:
    if cancellation.status == CancellationStatus.REQUESTED:
        return "Your cancellation request was sent. We will confirm it by email."
    if cancellation.terminate_on <= clock.today():
        return "Your cancellation is confirmed: the service is being terminated now."
    return (
        "Your cancellation is confirmed: the service keeps working until "
        f"{cancellation.terminate_on.day} {cancellation.terminate_on:%b %Y} and is not renewed."
    )


@login_required
@require_POST
def cancellation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own_subscription(request, pk)
    if subscription is None:
        return _back_to_service(pk)
    cancellation = subscription.cancellations.filter(status__in=OPEN_CANCELLATION).first()
    if cancellation is None:
        messages.info(request, "There is no cancellation to withdraw.")
        return _back_to_service(pk)
    try:
        cancellations.cancellation_withdraw(cancellation=cancellation, actor=request.user)
    except BillingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your cancellation is withdrawn: the service goes on as before.")
    return _back_to_service(pk)
