"""The storefront: the public catalogue and plan pages, the cart, checkout, my orders and a
service's change of plan."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.billing.models import PlanChangeStatus, Subscription
from portal.billing.money import format_money
from portal.billing.selectors import credit_balance
from portal.billing.services.invoices import BillingRefused
from portal.billing.services.plan_changes import plan_change_pending, plan_change_refusal
from portal.core import ratelimit
from portal.core.http import no_store, too_many_requests
from portal.store import cart as shopping_cart
from portal.store.catalogue import plan_card, plan_protocols, plans_on_sale
from portal.store.forms import AddToCartForm, ChangePlanForm, CheckoutForm
from portal.store.plan_switch import plan_options, plan_switch
from portal.store.selectors import customer_orders, taxed_at_home
from portal.store.services import CheckoutRefused, order_place
from provisioning.selectors import customer_service

# Each checkout asks every plan's panels afresh and may make an order and its invoice: a few in
# ten minutes is plenty for a person, not for a script.
CHECKOUT_RATE_LIMIT = 10
CHECKOUT_RATE_WINDOW = 600
TOO_MANY_CHECKOUTS = "Too many checkouts in a short time. Please wait a few minutes and try again."
TOO_MANY_PLAN_CHANGES = (
    "Too many changes of plan in a short time. Please wait a few minutes and try again."
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "store/home.html", {"cards": plans_on_sale()})


@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    card = plan_card(slug)
    if card is None:
        raise Http404("No such plan.")
    cycles = [(price.cycle, price.get_cycle_display()) for price in card.prices]
    form = AddToCartForm(request.POST or None, cycles=cycles)
    if request.method == "POST" and form.is_valid():
        if not card.available:
            messages.error(request, f"{card.plan.name} is sold out just now.")
        else:
            shopping_cart.cart_add(
                request.session,
                plan_id=card.plan.pk,
                cycle=form.cleaned_data["cycle"],
                quantity=form.cleaned_data["quantity"],
            )
            return redirect("store:cart")
    context = {"card": card, "form": form, "protocols": plan_protocols(card.plan)}
    return render(request, "store/plan_detail.html", context)


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    items = shopping_cart.cart_items(request.session)
    total = sum(item.first_payment for item in items)
    return render(request, "store/cart.html", {"items": items, "total": total})


@require_POST
def cart_remove(request: HttpRequest) -> HttpResponse:
    try:
        plan_id = int(request.POST.get("plan", ""))
    except ValueError:
        return redirect("store:cart")
    shopping_cart.cart_remove(request.session, plan_id=plan_id, cycle=request.POST.get("cycle", ""))
    return redirect("store:cart")


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    customer = getattr(request.user, "customer", None)
    if customer is None:
        messages.error(request, "Staff accounts cannot order; sign in as a customer.")
        return redirect("store:cart")
    items = shopping_cart.cart_items(request.session)
    form = CheckoutForm(request.POST or None, initial={"checkout_token": uuid.uuid4()})
    limited = False
    if request.method == "POST" and form.is_valid():
        key = f"checkout:{customer.pk}"
        limited = not ratelimit.hit(key, CHECKOUT_RATE_LIMIT, CHECKOUT_RATE_WINDOW)
        if limited:
            form.add_error(None, TOO_MANY_CHECKOUTS)
    if request.method == "POST" and form.is_valid():
        try:
            order = order_place(
                customer=customer,
                items=items,
                checkout_token=form.cleaned_data["checkout_token"],
                terms_accepted=form.cleaned_data["accept_terms"],
                coupon_code=form.cleaned_data["coupon"],
                use_credit=form.cleaned_data["use_credit"],
                actor=request.user,
            )
        except CheckoutRefused as exc:
            form.add_error(None, exc.message)
        else:
            shopping_cart.cart_clear(request.session)
            return redirect("billing:invoice_detail", pk=order.invoice_id)
    total = sum(item.first_payment for item in items)
    context = {
        "items": items,
        "total": total,
        "form": form,
        "credit": credit_balance(customer),
        "customer": customer,
        "taxed_at_home": taxed_at_home(customer),
    }
    response = render(request, "store/checkout.html", context)
    if limited:
        return too_many_requests(response, window=CHECKOUT_RATE_WINDOW)
    return no_store(response)


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    orders = customer_orders(user=request.user)
    return render(request, "store/order_list.html", {"orders": orders})


@login_required
@require_http_methods(["GET", "POST"])
def change_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's own service's other plans with what moving to each costs today; POST
    switches (to the invoice to pay, or back to the service when nothing was due)."""
    service = customer_service(user=request.user, service_id=pk)
    if service is None:
        raise Http404("No such service.")
    subscription = (
        Subscription.objects.filter(service=service).select_related("service__product").first()
    )
    if subscription is None:
        messages.error(request, "This service has no billing period to change; please contact us.")
        return redirect("client_area:service_detail", pk=pk)
    if request.method == "POST":
        return _switch(request, subscription)
    refusal = plan_change_refusal(subscription, service)
    context = {
        "service": service,
        "subscription": subscription,
        "refusal": refusal,
        "pending": plan_change_pending(subscription),
        "options": plan_options(subscription, quoted=refusal is None),
    }
    return no_store(render(request, "store/change_plan.html", context))


def _switch(request: HttpRequest, subscription: Subscription) -> HttpResponse:
    here = reverse("store:change_plan", args=[subscription.service_id])
    form = ChangePlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose a plan.")
        return redirect(here)
    key = f"change-plan:{subscription.customer_id}"
    if not ratelimit.hit(key, CHECKOUT_RATE_LIMIT, CHECKOUT_RATE_WINDOW):
        messages.error(request, TOO_MANY_PLAN_CHANGES)
        return redirect(here)
    try:
        change = plan_switch(
            subscription=subscription, plan_id=form.cleaned_data["plan"], actor=request.user
        )
    except BillingRefused as exc:
        messages.error(request, exc.message)
        return redirect(here)
    name = change.to_product.name
    if change.status == PlanChangeStatus.APPLIED:
        credited = (
            f" {format_money(-change.due)} went to your credit balance." if change.due < 0 else ""
        )
        messages.success(request, f"Your plan is now {name}.{credited}")
        return redirect("client_area:service_detail", pk=subscription.service_id)
    messages.info(request, f"Pay invoice {change.invoice} to move to {name}.")
    return redirect("billing:invoice_detail", pk=change.invoice_id)
