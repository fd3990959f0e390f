"""The lifecycle API billing calls: every verb, asked twice (while pending, and again once done),
makes one change on the panel — payments, webhooks and dunning runs repeat."""

import pytest
from django.utils import timezone

from provisioning import services
from provisioning.exceptions import ActionInProgress, ActionRefused
from provisioning.models import ServiceAction, ServiceStatus
from tests.factories import ServiceFactory, order_service
from tests.provisioning.conftest import settled, wait_for_service

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC_VERBS = {
    "service_create",
    "service_suspend",
    "service_unsuspend",
    "service_terminate",
    "service_change_package",
    "service_retry",
}


def writes(simulator, method: str, path_suffix: str = "") -> list[dict]:
    return [
        call
        for call in simulator.knob("GET", "calls")
        if call["method"] == method and call["path"].endswith(path_suffix)
    ]


def twice(verb, service, **kwargs):
    """Ask, ask again at once (still pending), wait for the worker, ask a third time (done)."""
    first = verb(service=service, actor=None, reason="dunning run", **kwargs)
    second = verb(service=service, actor=None, reason="dunning run, repeated", **kwargs)
    assert second.pending_action == first.pending_action
    done = wait_for_service(first, settled)
    again = verb(service=done, actor=None, reason="dunning run, once more", **kwargs)
    assert again.pending_action == ""
    return wait_for_service(again, settled)


def test_the_verbs_are_public_and_keyword_only():
    assert set(services.__all__) >= PUBLIC_VERBS
    for name in PUBLIC_VERBS:
        code = getattr(services, name).__code__
        assert code.co_argcount == 0, f"{name} takes positional arguments"
        assert {"actor", "reason"} <= set(code.co_varnames[: code.co_kwonlyargcount]), name


def test_every_verb_asked_twice_changes_the_panel_once(
    live_worker, simulator, panel, customer, server_for, product_for
):
    server = server_for(simulator)
    small = product_for((server, "office"), name="VPN 10", download_mbps=10, upload_mbps=1)
    big = product_for((server, "office"), name="VPN 500", download_mbps=500, upload_mbps=50)

    # create: the same key twice is one service and one POST
    first = order_service(customer, small, idempotency_key="order-line-7")
    repeat = order_service(customer, small, idempotency_key="order-line-7")
    assert repeat.pk == first.pk
    service = wait_for_service(first, settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    assert order_service(customer, small, idempotency_key="order-line-7").pk == service.pk
    name = service.remote_name
    assert len(writes(simulator, "POST", "/client")) == 1

    service = twice(services.service_suspend, service)
    assert service.status == ServiceStatus.SUSPENDED
    assert not panel.get_client(name).is_enabled

    service = twice(services.service_unsuspend, service)
    assert service.status == ServiceStatus.ACTIVE
    assert panel.get_client(name).is_enabled

    service = twice(services.service_change_package, service, product=big)
    assert service.product == big
    assert panel.get_client(name).b_download == 500

    service = twice(services.service_terminate, service)
    assert service.status == ServiceStatus.TERMINATED
    assert [client.name for client in panel.clients()] == []

    # one PUT for the bandwidth of the create, one per suspend, unsuspend, change; one DELETE
    assert len(writes(simulator, "PUT", f"/client/{name}")) == 4
    assert len(writes(simulator, "DELETE", f"/client/{name}")) == 1
    requested = service.events.filter(action__endswith="_requested").values_list(
        "action", flat=True
    )
    assert sorted(requested) == sorted(
        f"{action}_requested" for action in ("suspend", "unsuspend", "change_package", "terminate")
    )


def test_retry_asked_twice_queues_one_run(
    live_worker, simulator, customer, server_for, product_for
):
    server = server_for(simulator)
    product = product_for((server, "office"))
    simulator.knob("POST", "slots", {"total": 0})
    failed = wait_for_service(order_service(customer, product), settled)
    assert failed.status == ServiceStatus.FAILED
    simulator.knob("POST", "slots", {"total": 50})

    queued = services.service_retry(service=failed, actor=None, reason="paid")
    again = services.service_retry(service=failed, actor=None, reason="paid again")

    assert (queued.action_requested_at, again.action_requested_at) == (
        queued.action_requested_at,
        queued.action_requested_at,
    )
    service = wait_for_service(queued, settled)
    assert service.status == ServiceStatus.ACTIVE, service.last_error
    done = services.service_retry(service=service, actor=None, reason="paid, once more")
    assert (done.status, done.pending_action) == (ServiceStatus.ACTIVE, "")
    assert service.events.filter(action="create_retried").count() == 1
    assert len(writes(simulator, "POST", "/client")) == 1


def test_a_verb_the_state_refuses_changes_nothing():
    creating = ServiceFactory(pending_action=ServiceAction.CREATE)  # its create is in flight
    pending = ServiceFactory()  # nothing to suspend yet

    with pytest.raises(ActionInProgress, match="still in progress"):
        services.service_suspend(service=creating, actor=None, reason="overdue")
    with pytest.raises(ActionRefused, match="A pending service cannot suspend"):
        services.service_suspend(service=pending, actor=None, reason="overdue")

    for service in (creating, pending):
        before = (service.status, service.pending_action)
        service.refresh_from_db()
        assert (service.status, service.pending_action) == before
        assert not service.events.exists()


def test_the_same_key_for_another_order_is_refused(customer, product_for):
    first = ServiceFactory(customer=customer, request_key="order-line-9")

    with pytest.raises(ActionRefused, match="already created another service"):
        order_service(customer, product_for(name="Other"), idempotency_key="order-line-9")
    assert list(customer.services.all()) == [first]


def test_asking_for_the_state_a_parked_action_would_undo_drops_it():
    service = ServiceFactory(
        status=ServiceStatus.SUSPENDED,
        pending_action=ServiceAction.UNSUSPEND,
        action_failed_at=timezone.now(),
    )

    kept = services.service_suspend(service=service, actor=None, reason="still overdue")

    assert (kept.status, kept.pending_action) == (ServiceStatus.SUSPENDED, "")
    event = kept.events.get(action="suspend_requested")
    assert event.data == {"reason": "still overdue", "replaces": "unsuspend"}
