"""Provisioning under faults (reliability.md classes 5-10): the panel's and the service's end state.

Each test sets up the real situation with the live simulator's knobs and a real Celery worker.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning import services, tasks
from provisioning.models import Service, ServiceAction, ServiceStatus
from provisioning.services import outbox
from tests.factories import ServiceFactory, order_service
from tests.provisioning.conftest import settled, wait_for_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def office_product(simulator, server_for, product_for):
    return product_for((server_for(simulator), "office"), download_mbps=50, upload_mbps=10)


def _posts(simulator) -> list[dict]:
    return [
        c
        for c in simulator.knob("GET", "calls")
        if (c["method"], c["path"]) == ("POST", "/api/v1/client")
    ]


def _create(customer, product) -> Service:
    return wait_for_service(order_service(customer, product), settled)


def test_panel_down_is_retried_then_failed_with_a_clear_reason_and_retryable(
    live_worker, simulator, panel, customer, office_product
):
    simulator.stop()

    service = _create(customer, office_product)

    assert service.status == ServiceStatus.FAILED
    assert service.action_attempts == 3
    assert "Gave up after 3 attempts" in service.last_error
    assert "panel not usable" in service.last_error
    simulator.start()
    services.service_retry(service=service, actor=None, reason="test")
    assert wait_for_service(service, settled).status == ServiceStatus.ACTIVE
    assert [client.name for client in panel.clients()] == [service.remote_name]


def test_lost_create_response_adopts_the_client_instead_of_creating_a_second(
    live_worker, simulator, panel, customer, office_product
):
    simulator.knob("POST", "faults", {"drop_after_write_next": 1})

    service = _create(customer, office_product)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert [client.name for client in panel.clients()] == [service.remote_name]
    assert panel.get_client(service.remote_name).b_download == 50
    assert len(_posts(simulator)) == 1


def test_failed_bandwidth_update_deletes_the_client_and_fails_the_service(
    live_worker, simulator, panel, customer, office_product
):
    simulator.knob(
        "POST", "faults", {"rules": [{"method": "PUT", "path": "^client/", "count": 99}]}
    )

    service = _create(customer, office_product)

    assert service.status == ServiceStatus.FAILED
    assert "Bandwidth could not be applied" in service.last_error
    assert "the client was deleted again" in service.last_error
    assert not service.needs_attention
    assert panel.clients() == []


def test_failed_rollback_flags_the_service_with_the_orphan_name(
    live_worker, simulator, panel, customer, office_product
):
    rules = [
        {"method": method, "path": "^client/", "count": 99, "status": 500}
        for method in ("PUT", "DELETE")
    ]
    simulator.knob("POST", "faults", {"rules": rules})

    service = _create(customer, office_product)

    assert service.status == ServiceStatus.FAILED
    assert service.needs_attention
    assert service.remote_name in service.attention_reason
    assert [client.name for client in panel.clients()] == [service.remote_name]
    simulator.knob("POST", "faults", {"rules": []})
    services.service_request_action(
        service=service, actor=None, reason="test", action=ServiceAction.TERMINATE
    )
    service = wait_for_service(service, settled)
    assert service.status == ServiceStatus.TERMINATED
    assert not service.needs_attention
    assert panel.clients() == []


def test_no_deployable_pair_fails_and_creates_nothing(
    live_worker, simulator, panel, customer, office_product
):
    simulator.knob("POST", "networks/office/fill")

    service = _create(customer, office_product)

    assert service.status == ServiceStatus.FAILED
    assert "No deployable server/network" in service.last_error
    assert "no free IP" in service.last_error
    assert panel.clients() == []
    assert _posts(simulator) == []


@pytest.mark.parametrize("scarce", ["licence slot", "IP address"])
def test_two_services_racing_for_the_last_slot_or_ip_one_wins_one_fails_cleanly(
    live_worker, simulator, panel, customer, server_for, product_for, scarce
):
    lab = server_for(simulator)
    product = product_for((lab, "lab"))
    for number in range(4):
        panel.create_client(network_name="lab", name=f"existing_{number}")
    if scarce == "licence slot":
        simulator.knob("POST", "networks/lab/free")
        simulator.knob("POST", "slots", {"total": 5})
    # Slow enough that both workers pass the slot and IP checks before either POSTs.
    simulator.knob("POST", "faults", {"latency_ms": 400})
    simulator.knob("POST", "calls/reset")

    first = order_service(customer, product)
    second = order_service(customer, product)
    outcomes = sorted(wait_for_service(s, settled).status for s in (first, second))

    assert outcomes == [ServiceStatus.ACTIVE, ServiceStatus.FAILED]
    assert sorted(post["status"] for post in _posts(simulator)) == [200, 422]
    winner = next(s for s in (first, second) if s.status == ServiceStatus.ACTIVE)
    ours = [c.name for c in panel.clients() if not c.name.startswith("existing_")]
    assert ours == [winner.remote_name]


def test_the_same_task_delivered_twice_creates_one_client(
    live_worker, simulator, panel, customer, office_product
):
    simulator.knob("POST", "faults", {"latency_ms": 300})
    service = order_service(customer, office_product)
    tasks.run_pending_action.delay(service.pk)
    tasks.run_pending_action.delay(service.pk)

    service = wait_for_service(service, settled)

    assert service.status == ServiceStatus.ACTIVE
    assert [client.name for client in panel.clients()] == [service.remote_name]
    assert len(_posts(simulator)) == 1


def test_terminating_a_client_already_deleted_on_the_panel_terminates(
    live_worker, simulator, panel, customer, office_product
):
    service = _create(customer, office_product)
    simulator.knob("DELETE", f"clients/{service.remote_name}")

    services.service_request_action(
        service=service, actor=None, reason="test", action=ServiceAction.TERMINATE
    )

    assert wait_for_service(service, settled).status == ServiceStatus.TERMINATED
    assert service.last_error == ""


def test_task_message_lost_after_commit_is_provisioned_by_the_sweeper(
    live_worker, simulator, panel, customer, office_product
):
    long_ago = timezone.now() - timedelta(minutes=10)
    service = ServiceFactory(
        customer=customer,
        product=office_product,
        pending_action=ServiceAction.CREATE,
        action_requested_at=long_ago,
        action_due_at=long_ago,
    )

    tasks.sweep_stale_actions.delay()

    assert wait_for_service(service, settled).status == ServiceStatus.ACTIVE
    assert [client.name for client in panel.clients()] == [service.remote_name]


def test_sweeper_requeues_only_stale_unparked_unleased_actions(
    customer, office_product, monkeypatch
):
    # The messages are caught here, not sent: a worker running them would race the teardown.
    sent: list[tuple] = []
    monkeypatch.setattr(outbox, "enqueue_on_commit", lambda *message: sent.append(message))
    now, long_ago = timezone.now(), timezone.now() - timedelta(hours=1)

    def pending(due, **extra) -> Service:
        return ServiceFactory(
            customer=customer,
            product=office_product,
            pending_action=ServiceAction.CREATE,
            action_requested_at=long_ago,
            action_due_at=due,
            **extra,
        )

    stale = pending(long_ago)
    left_alone = [
        pending(now),
        pending(long_ago, action_failed_at=now),
        pending(long_ago, action_token="0" * 32, action_started_at=now),
    ]

    assert services.services_requeue_stale() == 1
    assert sent == [(outbox.RUN_TASK, stale.pk)]
    stale.refresh_from_db()
    assert stale.action_due_at > long_ago
    for service in left_alone:
        due = service.action_due_at
        service.refresh_from_db()
        assert service.action_due_at == due


def test_a_foreign_client_holding_the_chosen_name_is_never_taken_over(
    live_worker, simulator, panel, customer, server_for, product_for
):
    product = product_for((server_for(simulator), "office"), client_name_rule="c{client_id}")
    foreign = panel.create_client(network_name="office", name=f"c{customer.pk}")

    service = _create(customer, product)

    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert service.remote_name == f"c{customer.pk}-1"
    assert panel.get_client(foreign.name) == foreign
    assert sorted(c.name for c in panel.clients()) == [foreign.name, service.remote_name]
