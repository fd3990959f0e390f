"""Service admin: confirmation pages, CSRF, actions through the service layer, create by hand."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from provisioning.models import Service, ServiceAction, ServiceEvent, ServiceStatus
from tests.factories import ModuleLogEntryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def action_url(service: Service, action: str) -> str:
    return reverse("admin:provisioning_service_action", args=[service.pk, action])


def retry_url(service: Service) -> str:
    return reverse("admin:provisioning_service_retry", args=[service.pk])


def change_url(service: Service) -> str:
    return reverse("admin:provisioning_service_change", args=[service.pk])


@pytest.fixture
def active_service(service_factory, offline_server) -> Service:
    return service_factory(
        status=ServiceStatus.ACTIVE,
        server=offline_server,
        network="office",
        remote_name="vpn-1-1-abcd",
        activated_at=timezone.now(),
    )


def csrf_token(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.context["csrf_token"]


def test_get_shows_the_confirmation_and_changes_nothing(admin_client, active_service):
    response = admin_client.get(action_url(active_service, ServiceAction.SUSPEND))

    assert response.status_code == 200
    assert "Suspend this service?" in response.content.decode()
    active_service.refresh_from_db()
    assert active_service.pending_action == ""
    assert not ServiceEvent.objects.exists()


def test_post_without_csrf_token_is_rejected(csrf_admin_client, active_service):
    response = csrf_admin_client.post(action_url(active_service, ServiceAction.SUSPEND))

    assert response.status_code == 403
    active_service.refresh_from_db()
    assert active_service.pending_action == ""


def test_post_with_csrf_token_queues_the_action_and_audits_it(
    csrf_admin_client, active_service, admin_user
):
    url = action_url(active_service, ServiceAction.SUSPEND)
    token = csrf_token(csrf_admin_client, url)

    response = csrf_admin_client.post(url, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"] == change_url(active_service)
    active_service.refresh_from_db()
    assert active_service.pending_action == ServiceAction.SUSPEND
    assert active_service.status == ServiceStatus.ACTIVE  # the worker changes it, not the admin
    event = ServiceEvent.objects.get(service=active_service)
    assert (event.action, event.actor) == ("suspend_requested", admin_user)


def test_a_refused_action_is_shown_as_an_error_message(admin_client, service_factory):
    pending = service_factory()

    response = admin_client.post(action_url(pending, ServiceAction.SUSPEND), follow=True)

    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["A pending service cannot suspend."]
    assert "A pending service cannot suspend." in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert not ServiceEvent.objects.exists()


def test_change_package_needs_a_product_and_queues_the_move(admin_client, active_service):
    bigger = ProductFactory(name="VPN 500")
    url = action_url(active_service, ServiceAction.CHANGE_PACKAGE)

    page = admin_client.get(url).content.decode()
    assert f'<option value="{bigger.pk}">VPN 500</option>' in page
    assert f'<option value="{active_service.product_id}"' not in page

    assert admin_client.post(url, {}).status_code == 200  # no product chosen: the form again
    response = admin_client.post(url, {"product": bigger.pk})

    assert response.status_code == 302
    active_service.refresh_from_db()
    assert (active_service.pending_product, active_service.pending_action) == (
        bigger,
        "change_package",
    )
    assert active_service.product != bigger


def test_retry_requeues_a_parked_action(admin_client, active_service):
    Service.objects.filter(pk=active_service.pk).update(
        pending_action=ServiceAction.SUSPEND,
        action_requested_at=timezone.now(),
        action_failed_at=timezone.now(),
        last_error="Panel said no",
    )

    page = admin_client.get(change_url(active_service)).content.decode()
    assert retry_url(active_service) in page
    assert (
        "Last error: Panel said no" in admin_client.get(retry_url(active_service)).content.decode()
    )
    response = admin_client.post(retry_url(active_service))

    assert response.status_code == 302
    active_service.refresh_from_db()
    assert active_service.action_failed_at is None
    assert active_service.pending_action == ServiceAction.SUSPEND
    assert ServiceEvent.objects.get(service=active_service).action == "suspend_retried"


def test_retry_with_nothing_to_retry_is_an_error_message(admin_client, active_service):
    response = admin_client.post(retry_url(active_service), follow=True)

    assert "There is no failed action to retry" in response.content.decode()


def test_clearing_the_attention_flag_is_confirmed_then_audited(admin_client, active_service):
    Service.objects.filter(pk=active_service.pk).update(
        needs_attention=True, attention_reason="Orphan client 'vpn-x' may exist"
    )
    url = f"/admin/provisioning/service/{active_service.pk}/clear-attention/"

    assert url in admin_client.get(change_url(active_service)).content.decode()
    assert "Orphan client" in admin_client.get(url).content.decode()
    response = admin_client.post(url)

    assert response.status_code == 302
    active_service.refresh_from_db()
    assert not active_service.needs_attention
    event = ServiceEvent.objects.get(service=active_service)
    assert (event.action, event.data["reason"]) == (
        "attention_cleared",
        "Orphan client 'vpn-x' may exist",
    )


def test_unknown_action_is_404(admin_client, active_service):
    assert admin_client.get(action_url(active_service, "reboot")).status_code == 404


def test_create_by_hand_queues_a_pending_service_with_an_event(
    admin_client, customer, product, admin_user
):
    add_url = reverse("admin:provisioning_service_add")
    assert "Create a service by hand" in admin_client.get(add_url).content.decode()

    form = {"customer": customer.pk, "product": product.pk, "request_key": uuid.uuid4()}
    response = admin_client.post(add_url, form)

    service = Service.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(service)
    assert (service.customer, service.product) == (customer, product)
    assert (service.status, service.pending_action) == (ServiceStatus.PENDING, "create")
    event = ServiceEvent.objects.get(service=service)
    assert (event.action, event.actor) == ("created", admin_user)


def test_create_by_hand_submitted_twice_creates_one_service(admin_client, customer, product):
    form = {
        "customer": customer.pk,
        "product": product.pk,
        "request_key": uuid.uuid4(),
    }

    first = admin_client.post(reverse("admin:provisioning_service_add"), form)
    second = admin_client.post(reverse("admin:provisioning_service_add"), form)

    service = Service.objects.get()
    assert first["Location"] == second["Location"] == change_url(service)
    assert ServiceEvent.objects.filter(service=service, action="created").count() == 1


def test_the_same_form_sent_again_with_another_product_says_so(
    admin_client, customer_factory, product, product_for
):
    form = {"customer": customer_factory().pk, "product": product.pk, "request_key": uuid.uuid4()}
    admin_client.post(reverse("admin:provisioning_service_add"), form)

    again = admin_client.post(
        reverse("admin:provisioning_service_add"), {**form, "product": product_for(name="B").pk}
    )

    assert again.status_code == 200
    assert "This form was already used to create a service" in again.content.decode()
    assert Service.objects.get().product == product


def test_create_by_hand_without_a_customer_shows_the_form_again(admin_client, product):
    response = admin_client.post(reverse("admin:provisioning_service_add"), {"product": product.pk})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Service.objects.exists()


def test_the_change_page_is_read_only(admin_client, active_service):
    page = admin_client.get(change_url(active_service)).content.decode()

    assert 'name="_save"' not in page
    assert 'name="status"' not in page
    assert (
        admin_client.post(change_url(active_service), {"status": "terminated"}).status_code == 403
    )
    active_service.refresh_from_db()
    assert active_service.status == ServiceStatus.ACTIVE


def test_change_page_shows_state_events_and_escaped_module_log(admin_client, active_service):
    Service.objects.filter(pk=active_service.pk).update(
        needs_attention=True, attention_reason="Orphan client 'vpn-x' may exist"
    )
    ServiceEvent.objects.create(service=active_service, action="provisioned", to_status="active")
    ModuleLogEntryFactory(
        server=active_service.server,
        service=active_service,
        action="create",
        method="POST",
        path="client",
        request={"name": "vpn-1-1-abcd", "password": "***"},
        response={"message": "<script>alert(1)</script>"},
        http_status=422,
        outcome="error",
        error="<b>rejected</b>",
    )

    html = admin_client.get(change_url(active_service)).content.decode()

    assert 'class="status-pill status-active"' in html
    assert "provisioned" in html
    assert "Orphan client" in html
    assert "<script>alert(1)</script>" not in html
    assert "<b>rejected</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;rejected&lt;/b&gt;" in html
    for action in ("suspend", "terminate", "change_package"):
        assert action_url(active_service, action) in html
    assert action_url(active_service, "unsuspend") not in html


def test_changelist_searches_by_remote_name_and_customer_email(
    admin_client, active_service, service_factory, other_customer
):
    other = service_factory(customer=other_customer, remote_name="vpn-other")
    url = reverse("admin:provisioning_service_changelist")

    by_name = admin_client.get(url, {"q": "vpn-1-1"}).context["cl"].result_list
    by_email = admin_client.get(url, {"q": other.customer.user.email}).context["cl"].result_list
    parked = admin_client.get(url, {"action_state": "parked"}).context["cl"].result_list

    assert list(by_name) == [active_service]
    assert list(by_email) == [other]
    assert list(parked) == []
