"""Room for several new services (the shop's sold-out check for a quantity), on live panels:
free licence slots, free IPs and the local cap, summed over the deployable pairs, each server's
slots counted once."""

import pytest

from provisioning.placement import product_availability
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_room_is_the_least_of_free_slots_and_free_ips(simulator, server_for, product_for):
    product = product_for((server_for(simulator), "lab"))  # lab: 5 usable IPs, 50 slots

    five, six = product_availability(product, count=5), product_availability(product, count=6)
    simulator.leave_free_slots(2)
    two, three = product_availability(product, count=2), product_availability(product, count=3)

    assert five.available
    assert (six.available, six.room) == (False, 5)
    assert "room for 5 of the 6 asked for" in six.reason
    assert two.available
    assert (three.available, three.room) == (False, 2)


def test_pairs_on_one_server_share_its_slots(simulator, server_for, product_for):
    server = server_for(simulator)
    product = product_for((server, "office"), (server, "lab"))
    simulator.leave_free_slots(3)

    assert product_availability(product, count=3).available
    assert product_availability(product, count=4).room == 3  # not 3 per network


def test_room_adds_up_over_servers_each_under_its_local_cap(
    simulator_factory, server_for, product_for
):
    first, second = simulator_factory(), simulator_factory()
    capped = server_for(first, name="A", max_accounts=1)
    product = product_for((capped, "office"), (server_for(second, name="B"), "office"))
    second.leave_free_slots(2)

    assert product_availability(product, count=3).available
    assert product_availability(product, count=4).room == 3


def test_slots_our_services_already_hold_leave_no_room(
    simulator, server_for, product_for, customer
):
    server = server_for(simulator)
    product = product_for((server, "office"))
    simulator.leave_free_slots(1)
    ServiceFactory(customer=customer, product=product, status="provisioning", server=server)

    held = product_availability(product)

    assert not held.available
    assert "free licence slots held by our services" in held.reason


def test_panels_are_asked_only_until_there_is_room_enough(
    simulator_factory, server_for, product_for
):
    first, second = simulator_factory(), simulator_factory()
    product = product_for(
        (server_for(first, name="A"), "office"), (server_for(second, name="B"), "office")
    )
    first.leave_free_slots(1)
    second.knob("POST", "calls/reset")

    assert product_availability(product).available
    asked_for_one = second.knob("GET", "calls")
    assert product_availability(product, count=2).available
    asked_for_two = second.knob("GET", "calls")

    assert asked_for_one == []
    assert [call["path"] for call in asked_for_two] == [
        "/api/v1/system/status",
        "/api/v1/network/office/available_ip",
    ]
