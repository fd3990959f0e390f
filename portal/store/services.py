"""Placing an order: sold-out check, coupon, one order and one invoice in one transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.models import Customer
from portal.billing.money import money
from portal.billing.services import LineSpec, credit_apply, invoice_create
from portal.billing.services.payments import invoice_settle_if_free
from portal.core.exceptions import DomainError
from portal.store.availability import plan_room
from portal.store.cart import CartItem
from portal.store.emails import order_confirmation_send
from portal.store.models import Coupon, CouponScope, Order, OrderItem
from portal.store.selectors import coupons_with_uses
from provisioning.licences import product_licence_refusal


class CheckoutRefused(DomainError):
    """The order cannot be placed; ``message`` tells the customer why (nothing was created)."""

    code = "checkout_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def coupon_for(code: str) -> Coupon:
    """The usable coupon of ``code``, or CheckoutRefused saying why not."""
    coupon = coupons_with_uses().filter(code=code.strip().upper(), active=True).first()
    if coupon is None:
        raise CheckoutRefused("This coupon code is not valid.")
    if coupon.valid_until is not None and coupon.valid_until < timezone.now():
        raise CheckoutRefused("This coupon has expired.")
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CheckoutRefused("This coupon has been used up.")
    return coupon


def order_place(
    *,
    customer: Customer,
    items: list[CartItem],
    checkout_token: uuid.UUID,
    terms_accepted: bool,
    coupon_code: str = "",
    use_credit: bool = False,
    actor: Any,
) -> Order:
    """One order and its invoice for ``items``; the same ``checkout_token`` again (a double
    submit) returns the first order. Every plan is checked fresh for room on its panels first:
    nothing is invoiced for a plan that is sold out, nor for one whose product's licence check
    failed (its service could never be set up). ``use_credit`` pays as much of the invoice
    as the customer's credit balance covers, at once (all of it: the order is paid)."""
    if existing := _placed_already(customer, checkout_token):
        return existing
    if not terms_accepted:
        raise CheckoutRefused("Please accept the terms of service to order.")
    if not items:
        raise CheckoutRefused("Your cart is empty.")
    wanted = {item.plan: sum(i.quantity for i in items if i.plan == item.plan) for item in items}
    for plan in wanted:
        if product_licence_refusal(plan.product):
            raise CheckoutRefused(
                f"{plan.name} cannot be ordered just now, so nothing was ordered. Please try "
                "again later or choose another plan."
            )
    for plan, count in wanted.items():
        if (room := plan_room(plan, count=count)) < count:
            fits = (
                f"Only {room} more {plan.name} can be set up"
                if room
                else f"{plan.name} is sold out"
            )
            raise CheckoutRefused(
                f"{fits} just now, so nothing was ordered. Please try again later or choose "
                "another plan."
            )
    try:
        return _place(customer, items, checkout_token, coupon_code, use_credit, actor)
    except IntegrityError:
        if existing := _placed_already(customer, checkout_token):
            return existing  # its twin committed first (where the row lock does not queue them)
        if Order.objects.filter(checkout_token=checkout_token).exists():
            # Another customer's token (guessed or replayed): say nothing about their order.
            raise CheckoutRefused(
                "This checkout form was sent already; please open the checkout page again."
            ) from None
        raise


def _placed_already(customer: Customer, checkout_token: uuid.UUID) -> Order | None:
    return Order.objects.filter(customer=customer, checkout_token=checkout_token).first()


def _place(
    customer: Customer,
    items: list[CartItem],
    checkout_token: uuid.UUID,
    coupon_code: str,
    use_credit: bool,
    actor: Any,
) -> Order:
    """The order, in one transaction that first locks the customer's row: a double click's
    twin waits here, then finds the first order (and never reaches a coupon's last use)."""
    with transaction.atomic():
        Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).first()
        if existing := _placed_already(customer, checkout_token):
            return existing
        coupon = _take_coupon(coupon_code) if coupon_code.strip() else None
        invoice = invoice_create(
            customer=customer,
            lines=[line for item in items for line in _lines(item, coupon)],
            actor=actor,
            source_key=f"order:{customer.pk}:{checkout_token}",
        )
        order = Order.objects.create(
            customer=customer, checkout_token=checkout_token, invoice=invoice, coupon=coupon
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                plan=item.plan,
                cycle=item.price.cycle,
                quantity=item.quantity,
                price=item.price.price,
                setup_fee=item.price.setup_fee,
            )
            for item in items
        )
        if invoice.total == 0:
            order.invoice = invoice_settle_if_free(invoice=invoice, actor=actor)
        elif use_credit and credit_apply(invoice=invoice, actor=actor) is not None:
            order.invoice.refresh_from_db()
        order_confirmation_send(order=order)
    return order


def _take_coupon(code: str) -> Coupon:
    """The coupon, checked under its row lock (held to the commit of the order that uses it),
    so two orders cannot both take its last use."""
    coupon = coupon_for(code)
    Coupon.objects.select_for_update().filter(pk=coupon.pk).first()
    return coupon_for(code)  # still usable once locked


def _lines(item: CartItem, coupon: Coupon | None) -> list[LineSpec]:
    price = item.price
    discount = money(coupon.discount(price.price)) if coupon else Decimal(0)
    recurring = (
        price.price - discount if coupon and coupon.scope == CouponScope.RECURRING else price.price
    )
    lines = [
        LineSpec(
            description=f"{item.plan.name} ({price.get_cycle_display().lower()})",
            unit_price=price.price,
            quantity=item.quantity,
            product=item.plan.product,
            cycle=price.cycle,
            recurring_price=money(recurring),
        )
    ]
    if price.setup_fee > 0:
        lines.append(
            LineSpec(
                description=f"Setup fee: {item.plan.name}",
                unit_price=price.setup_fee,
                quantity=item.quantity,
            )
        )
    if discount > 0:
        lines.append(
            LineSpec(
                description=f"Coupon {coupon.code}: {item.plan.name}",
                unit_price=-discount,
                quantity=item.quantity,
            )
        )
    return lines
