"""Staff's services: the list with the admin's filters, one service, and the lifecycle actions —
202 with the service's state, queued once however often they are asked (the Service row is the
outbox; no worker here), 409 when the state refuses them, audited under who asked."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from provisioning.models import ServiceAction, ServiceEvent, ServiceStatus
from provisioning.services.outbox import RUN_TASK
from tests.factories import CustomerFactory, ProductFactory, ServerFactory, ServiceFactory
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
SERVICES = "/api/v1/staff/services/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [service["id"] for service in response.json()["results"]]


@pytest.fixture
def active(service_factory):
    return service_factory(on_panel=True)


def act(api, service, verb: str, capture, **data):
    with capture(execute=True):
        return api.post(f"{SERVICES}{service.pk}/{verb}/", data, format="json")


def test_the_list_filters_as_the_admins_list_does(staff_api, service_factory, customer):
    server = ServerFactory()
    active = service_factory(status=ServiceStatus.ACTIVE, server=server)
    failed = service_factory(status=ServiceStatus.FAILED, needs_attention=True)
    other = ServiceFactory(customer=CustomerFactory(), product=ProductFactory())

    assert ids(staff_api.get(SERVICES)) == [other.pk, failed.pk, active.pk]
    assert ids(staff_api.get(SERVICES, {"status": "failed"})) == [failed.pk]
    assert ids(staff_api.get(SERVICES, {"customer": customer.pk})) == [failed.pk, active.pk]
    assert ids(staff_api.get(SERVICES, {"product": other.product_id})) == [other.pk]
    assert ids(staff_api.get(SERVICES, {"server": server.pk})) == [active.pk]
    assert ids(staff_api.get(SERVICES, {"needs_attention": "true"})) == [failed.pk]


def test_a_bad_filter_value_is_a_400_with_the_field_named(staff_api):
    response = staff_api.get(SERVICES, {"status": "sleeping"})

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_the_list_costs_the_same_queries_for_one_service_or_many(staff_api, service_factory):
    service_factory(on_panel=True)
    one = page_queries(staff_api, SERVICES)
    for _ in range(4):
        ServiceFactory(on_panel=True)

    assert page_queries(staff_api, SERVICES) == one


def test_one_service_shows_its_state_and_what_may_be_asked(staff_api, active, customer):
    body = staff_api.get(f"{SERVICES}{active.pk}/").json()

    assert body["status"] == "active"
    assert body["customer_email"] == customer.user.email
    assert body["remote_name"] == active.remote_name
    assert body["allowed_actions"] == ["suspend", "change_package", "terminate"]
    assert body["pending_action"] == ""


def test_suspend_answers_202_queues_once_and_a_repeat_queues_nothing(
    staff_api, staff, active, sent_tasks, django_capture_on_commit_callbacks
):
    first = act(staff_api, active, "suspend", django_capture_on_commit_callbacks, reason="abuse")
    again = act(staff_api, active, "suspend", django_capture_on_commit_callbacks)

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["pending_action"] == again.json()["pending_action"] == "suspend"
    assert sent_tasks.named(RUN_TASK) == [(active.pk,)]
    event = ServiceEvent.objects.get(service=active, action="suspend_requested")
    assert (event.actor, event.data["reason"]) == (staff, "abuse")
    entry = LogEntry.objects.get()
    assert (entry.user, entry.get_change_message()) == (staff, "Requested: Suspend.")


@pytest.mark.parametrize(
    ("verb", "status", "action"),
    [
        ("unsuspend", ServiceStatus.SUSPENDED, ServiceAction.UNSUSPEND),
        ("terminate", ServiceStatus.ACTIVE, ServiceAction.TERMINATE),
    ],
)
def test_each_verb_queues_its_action(
    staff_api, service_factory, sent_tasks, django_capture_on_commit_callbacks, verb, status, action
):
    service = service_factory(on_panel=True, status=status)

    response = act(staff_api, service, verb, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    service.refresh_from_db()
    assert service.pending_action == action
    assert sent_tasks.named(RUN_TASK) == [(service.pk,)]


def test_change_package_queues_the_move_to_the_product_given(
    staff_api, active, sent_tasks, django_capture_on_commit_callbacks
):
    larger = ProductFactory()

    response = act(
        staff_api, active, "change-package", django_capture_on_commit_callbacks,
        product_id=larger.pk,
    )  # fmt: skip
    again = act(
        staff_api, active, "change-package", django_capture_on_commit_callbacks,
        product_id=larger.pk,
    )  # fmt: skip

    assert (response.status_code, again.status_code) == (202, 202)
    assert response.json()["pending_product_id"] == larger.pk
    assert sent_tasks.named(RUN_TASK) == [(active.pk,)]


def test_change_package_needs_a_product(staff_api, active):
    response = staff_api.post(f"{SERVICES}{active.pk}/change-package/", {}, format="json")

    assert response.status_code == 400
    assert "product_id" in response.json()["error"]["fields"]


def test_an_action_the_state_refuses_is_a_409_and_changes_nothing(
    staff_api, service_factory, sent_tasks, django_capture_on_commit_callbacks
):
    terminated = service_factory(status=ServiceStatus.TERMINATED)

    response = act(staff_api, terminated, "suspend", django_capture_on_commit_callbacks)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "action_refused"
    assert error["message"] == "A terminated service cannot suspend."
    terminated.refresh_from_db()
    assert terminated.pending_action == ""
    assert sent_tasks.sent == []
    assert not LogEntry.objects.exists()


def test_another_action_while_one_is_in_flight_is_a_409(
    staff_api, active, django_capture_on_commit_callbacks
):
    act(staff_api, active, "suspend", django_capture_on_commit_callbacks)

    response = act(staff_api, active, "terminate", django_capture_on_commit_callbacks)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "action_in_progress"


def test_retry_queues_a_parked_action_once(
    staff_api, service_factory, sent_tasks, django_capture_on_commit_callbacks
):
    parked = service_factory(
        on_panel=True,
        pending_action=ServiceAction.SUSPEND,
        action_failed_at=timezone.now() - timedelta(minutes=5),
        last_error="Panel unreachable",
    )

    first = act(staff_api, parked, "retry", django_capture_on_commit_callbacks)
    again = act(staff_api, parked, "retry", django_capture_on_commit_callbacks)

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["action_parked"] is False
    assert sent_tasks.named(RUN_TASK) == [(parked.pk,)]
    assert LogEntry.objects.get().get_change_message() == "Retried the failed action."


def test_retry_with_nothing_failed_is_a_409(staff_api, active):
    response = staff_api.post(f"{SERVICES}{active.pk}/retry/", {}, format="json")

    assert response.status_code == 409
    assert (
        response.json()["error"]["message"] == "There is no failed action to retry on this service."
    )


def test_an_action_on_an_unknown_service_is_a_404(staff_api):
    assert staff_api.post(f"{SERVICES}999/suspend/", {}, format="json").status_code == 404
