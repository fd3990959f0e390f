"""The create's panel calls: four on the common path, and a foreign client never taken over.

Runs the worker's step in-process against the live simulator, so each call is the test's to see.
"""

import hashlib

import pytest
from django.utils import timezone

from provisioning import services
from provisioning.models import ModuleLogEntry, Service, ServiceAction, ServiceStatus
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1/"


@pytest.fixture
def office(simulator, server_for, product_for):
    server = server_for(simulator)
    return server, product_for((server, "office"), download_mbps=30, upload_mbps=3)


def pending_create(customer, product, **fields) -> Service:
    now = timezone.now()
    return ServiceFactory(
        customer=customer,
        product=product,
        pending_action=ServiceAction.CREATE,
        action_requested_at=now,
        action_due_at=now,
        **fields,
    )


def panel_calls(simulator) -> list[tuple[str, str, int | None]]:
    return [
        (call["method"], call["path"].removeprefix(API), call["status"])
        for call in simulator.knob("GET", "calls")
    ]


def run(service: Service) -> Service:
    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()
    return service


def test_a_create_costs_four_panel_calls_and_logs_no_error(simulator, customer, office):
    _, product = office
    service = pending_create(customer, product)
    simulator.knob("POST", "calls/reset")

    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert panel_calls(simulator) == [
        ("GET", "system/status", 200),
        ("GET", "network/office/available_ip", 200),
        ("POST", "client", 200),
        ("PUT", f"client/{service.remote_name}", 200),
    ]
    assert not ModuleLogEntry.objects.filter(service=service, outcome="error").exists()


def test_without_ticked_networks_the_panel_picks_and_a_create_costs_three(
    simulator, customer, server_for, product_for
):
    server = server_for(simulator)
    product = product_for()  # no deploy targets: any server of the group, the panel's network
    service = pending_create(customer, product)
    simulator.knob("POST", "calls/reset")

    service = run(service)

    assert (service.status, service.server) == (ServiceStatus.ACTIVE, server)
    assert [(m, p) for m, p, _ in panel_calls(simulator)] == [
        ("GET", "system/status"),
        ("POST", "client"),
        ("PUT", f"client/{service.remote_name}"),
    ]


def test_a_name_taken_by_someone_else_moves_on_to_the_next_without_asking(
    simulator, panel, customer, office
):
    _, product = office
    foreign = panel.create_client(network_name="office", name="vpn-taken", password="theirs-123")
    service = pending_create(customer, product, remote_name="vpn-taken")
    simulator.knob("POST", "calls/reset")

    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == "vpn-taken-1"
    assert [(m, p, s) for m, p, s in panel_calls(simulator) if m == "POST"] == [
        ("POST", "client", 422),
        ("POST", "client", 200),
    ]
    assert not any(m == "GET" and p.startswith("client/") for m, p, _ in panel_calls(simulator))
    untouched = panel.get_client("vpn-taken")
    assert (untouched.password, untouched.is_enabled) == (foreign.password, True)


def test_a_lost_create_response_is_adopted_by_its_password(simulator, panel, customer, office):
    _, product = office
    service = pending_create(customer, product)
    simulator.knob("POST", "faults", {"drop_after_write_next": 1})

    with pytest.raises(services.ProvisioningRetry):
        run(service)
    service.refresh_from_db()
    assert service.create_posted_at is not None
    Service.objects.filter(pk=service.pk).update(action_due_at=timezone.now())
    simulator.knob("POST", "calls/reset")
    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert [(m, p) for m, p, _ in panel_calls(simulator)] == [
        ("GET", f"client/{service.remote_name}"),
        ("PUT", f"client/{service.remote_name}"),
    ]
    assert [client.name for client in panel.clients()] == [service.remote_name]
    secret = panel.get_client(service.remote_name).password
    assert service.create_fingerprints == hashlib.sha256(secret.encode()).hexdigest()


def test_after_a_lost_answer_a_client_without_our_password_is_someone_elses(
    simulator, panel, customer, office
):
    # given: our POST of "vpn-clash" may have been applied (its answer was lost), but the panel
    # already had a foreign "vpn-clash": that POST was refused, and the client is not ours
    server, product = office
    foreign = panel.create_client(network_name="office", name="vpn-clash", password="theirs-456")
    service = pending_create(
        customer,
        product,
        status=ServiceStatus.PROVISIONING,
        server=server,
        network="office",
        remote_name="vpn-clash",
        create_posted_at=timezone.now(),
        create_fingerprints=hashlib.sha256(b"the-password-we-sent").hexdigest(),
    )

    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == "vpn-clash-1"
    assert sorted(client.name for client in panel.clients()) == ["vpn-clash", "vpn-clash-1"]
    untouched = panel.get_client("vpn-clash")
    assert (untouched.password, untouched.b_download) == (foreign.password, foreign.b_download)


def test_a_lost_post_that_was_not_applied_is_posted_again_and_its_lookup_is_no_error(
    simulator, panel, customer, office
):
    server, product = office
    service = pending_create(
        customer,
        product,
        status=ServiceStatus.PROVISIONING,
        server=server,
        network="office",
        remote_name="vpn-lost",
        create_posted_at=timezone.now(),
        create_fingerprints=hashlib.sha256(b"never-arrived").hexdigest(),
    )
    simulator.knob("POST", "calls/reset")

    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == "vpn-lost"
    assert [(m, p, s) for m, p, s in panel_calls(simulator)][:2] == [
        ("GET", "client/vpn-lost", 404),
        ("GET", "system/status", 200),
    ]
    lookup = ModuleLogEntry.objects.get(service=service, method="GET", path="client/vpn-lost")
    assert (lookup.http_status, lookup.outcome) == (404, "ok")
    assert not ModuleLogEntry.objects.filter(service=service, outcome="error").exists()


def test_a_client_from_an_earlier_of_two_lost_posts_is_still_ours(
    simulator, panel, customer, office
):
    # given: two POSTs of "vpn-twice" lost their answers; the first one landed late
    server, product = office
    panel.create_client(network_name="office", name="vpn-twice", password="first-post-pw")
    sent = [hashlib.sha256(pw).hexdigest() for pw in (b"first-post-pw", b"second-post-pw")]
    service = pending_create(
        customer,
        product,
        status=ServiceStatus.PROVISIONING,
        server=server,
        network="office",
        remote_name="vpn-twice",
        create_posted_at=timezone.now(),
        create_fingerprints=" ".join(sent),
    )

    service = run(service)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == "vpn-twice"
    assert [client.name for client in panel.clients()] == ["vpn-twice"]
