"""Deploy-target choice across two live panels: ordered (the seed's rule), least full, local cap."""

import pytest

from provisioning.models import ServiceStatus
from provisioning.placement import product_availability
from tests.factories import order_service
from tests.provisioning.conftest import settled, wait_for_service
from vpnpanel import PanelClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_panels(simulator_factory, server_for):
    first, second = simulator_factory(), simulator_factory()
    return (
        (server_for(first, name="A"), PanelClient(first.url, first.token), first),
        (server_for(second, name="B"), PanelClient(second.url, second.token), second),
    )


def _provision(customer, product):
    service = wait_for_service(order_service(customer, product), settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    return service


def test_first_deployable_pair_in_order_wins(live_worker, two_panels, customer, product_for):
    (a, _, sim_a), (b, _, _) = two_panels
    product = product_for((a, "office"), (b, "lab"))

    first = _provision(customer, product)
    sim_a.knob("POST", "slots/exhaust")
    second = _provision(customer, product)

    assert (first.server, first.network) == (a, "office")
    assert (second.server, second.network) == (b, "lab")


def test_least_full_picks_the_server_using_the_smallest_share_of_its_slots(
    live_worker, two_panels, customer, product_for
):
    (a, panel_a, _), (b, _, sim_b) = two_panels
    for number in range(5):
        panel_a.create_client(network_name="office", name=f"old_{number}")
    sim_b.knob("POST", "slots", {"total": 10})
    product = product_for((a, "office"), (b, "office"), placement="least_full")

    service = _provision(customer, product)

    assert service.server == b


def test_local_cap_sends_the_next_service_to_the_next_pair(
    live_worker, two_panels, customer, product_for
):
    (a, _, _), (b, _, _) = two_panels
    a.max_accounts = 1
    a.save()
    product = product_for((a, "office"), (b, "office"))

    first, second = _provision(customer, product), _provision(customer, product)

    assert (first.server, second.server) == (a, b)


def test_without_ticks_the_network_is_left_to_the_panel(
    live_worker, two_panels, customer, product_for
):
    (a, panel_a, _), _ = two_panels
    product = product_for()

    service = _provision(customer, product)

    assert service.server == a
    assert service.network == panel_a.get_client(service.remote_name).network_name == "office"


def test_availability_says_whether_a_create_could_be_placed_now(simulator, server_for, product_for):
    server = server_for(simulator)
    product = product_for((server, "lab"))

    assert product_availability(product).available
    simulator.knob("POST", "networks/lab/fill")
    full = product_availability(product)
    assert not full.available
    assert "no free IP" in full.reason
    simulator.knob("POST", "networks/lab/free")
    simulator.knob("POST", "slots/exhaust")
    assert not product_availability(product).available


def test_a_panel_that_cannot_be_asked_counts_as_full(simulator, server_for, product_for):
    product = product_for((server_for(simulator), "office"))
    simulator.stop()

    assert not product_availability(product).available
