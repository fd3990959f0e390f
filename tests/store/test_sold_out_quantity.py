"""Checkout asks for room for the whole quantity of each plan (summed over its cycles), so a
customer never pays for services that cannot be set up."""

import pytest

from portal.billing.models import Invoice
from portal.store.models import Order
from tests.store.shopping import add, check_out

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def test_two_ordered_with_one_free_slot_is_refused_before_anything_is_invoiced(
    signed_in, shop_plan, simulator
):
    add(signed_in, quantity=2)
    simulator.leave_free_slots(1)

    response = check_out(signed_in)

    assert response.status_code == 200
    assert (
        "Only 1 more VPN 100 can be set up just now, so nothing was ordered"
        in response.content.decode()
    )
    assert not Order.objects.exists()
    assert not Invoice.objects.exists()


def test_two_ordered_with_two_free_slots_are_ordered(signed_in, shop_plan, simulator):
    add(signed_in, quantity=2)
    simulator.leave_free_slots(2)

    response = check_out(signed_in)

    order = Order.objects.get()
    assert response["Location"] == f"/billing/invoices/{order.invoice.pk}/"
    assert sum(item.quantity for item in order.items.all()) == 2


def test_the_quantities_of_one_plan_in_both_cycles_are_counted_together(
    signed_in, shop_plan, simulator
):
    add(signed_in, cycle="monthly")
    add(signed_in, cycle="annual")
    simulator.leave_free_slots(1)

    response = check_out(signed_in)

    assert "Only 1 more VPN 100 can be set up just now" in response.content.decode()
    assert not Invoice.objects.exists()
