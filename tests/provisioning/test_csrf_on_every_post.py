"""Every state-changing POST of the portal, customer and admin, is refused without a CSRF token.

Django's middleware enforces it; this list pins it, so a view made ``csrf_exempt`` by mistake (or
a new POST endpoint answered by GET) shows up here. Each case also checks nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from provisioning.models import (
    FindingKind,
    ModuleLogEntry,
    ReconciliationFinding,
    Service,
    ServiceEvent,
    ServiceStatus,
)
from tests.factories import ReconciliationFindingFactory, ServerFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(customer) -> Service:
    return ServiceFactory(
        customer=customer,
        server=ServerFactory(),
        network="office",
        remote_name="vpn-csrf",
        status=ServiceStatus.FAILED,
        needs_attention=True,
    )


@pytest.fixture
def finding(service) -> ReconciliationFinding:
    return ReconciliationFindingFactory(
        server=service.server, kind=FindingKind.ORPHAN, remote_name="vpn-orphan"
    )


def strict_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


CUSTOMER_POSTS: dict[str, Callable[[Service], tuple[str, dict]]] = {
    "logout": lambda s: ("/accounts/logout/", {}),
    "password change": lambda s: (
        "/accounts/password/change/",
        {
            "old_password": "pw-alice-123",
            "new_password1": "n3w-Pass!x",
            "new_password2": "n3w-Pass!x",
        },
    ),
    "one-time link": lambda s: (f"/services/{s.pk}/otl/", {}),
}

ADMIN_POSTS: dict[str, Callable[[Service, ReconciliationFinding], tuple[str, dict]]] = {
    "service action": lambda s, f: (f"/admin/provisioning/service/{s.pk}/action/terminate/", {}),
    "retry": lambda s, f: (f"/admin/provisioning/service/{s.pk}/retry/", {}),
    "refresh usage": lambda s, f: (f"/admin/provisioning/service/{s.pk}/refresh-usage/", {}),
    "clear attention": lambda s, f: (f"/admin/provisioning/service/{s.pk}/clear-attention/", {}),
    "test connection": lambda s, f: (
        f"/admin/provisioning/server/{s.server_id}/test-connection/",
        {},
    ),
    "delete orphan": lambda s, f: (
        f"/admin/provisioning/reconciliationfinding/{f.pk}/delete-orphan/",
        {"confirm": "yes"},
    ),
    "service delete": lambda s, f: (f"/admin/provisioning/service/{s.pk}/delete/", {"post": "yes"}),
}


def snapshot(service: Service) -> tuple:
    service.refresh_from_db()
    return (
        service.status,
        service.needs_attention,
        service.pending_action,
        ServiceEvent.objects.filter(service=service).count(),
        ModuleLogEntry.objects.count(),
        ReconciliationFinding.objects.filter(resolved_at__isnull=True).count(),
    )


@pytest.mark.parametrize("name", sorted(CUSTOMER_POSTS))
def test_customer_posts_need_the_csrf_token(name, customer, service):
    client = strict_client(customer.user)
    url, data = CUSTOMER_POSTS[name](service)
    before = snapshot(service)

    response = client.post(url, data)

    assert response.status_code == 403
    assert snapshot(service) == before
    customer.user.refresh_from_db()
    assert customer.user.check_password("pw-alice-123")
    assert client.get("/services/").status_code == 200  # still signed in


@pytest.mark.parametrize("name", sorted(ADMIN_POSTS))
def test_admin_posts_need_the_csrf_token(name, service, finding, staff):
    client = strict_client(staff)
    url, data = ADMIN_POSTS[name](service, finding)
    before = snapshot(service)

    response = client.post(url, data)

    assert response.status_code == 403
    assert snapshot(service) == before
    assert Service.objects.filter(pk=service.pk).exists()


def test_login_post_needs_the_csrf_token(customer):
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123"}
    )

    assert response.status_code == 403
