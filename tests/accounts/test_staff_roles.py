"""Staff roles as groups (portal/accounts/roles.py): made by a migration, kept in line after
every migrate, and a *support* user can look but not touch anything in the admin."""

from __future__ import annotations

import importlib

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, reverse

from portal.accounts.roles import BILLING, ROLES, SUPERADMIN, SUPPORT, role_grants
from provisioning.models import (
    ModuleLogEntry,
    ReconciliationFinding,
    Server,
    Service,
    ServiceAction,
    ServiceEvent,
    ServiceStatus,
)
from tests.factories import (
    ModuleLogEntryFactory,
    ReconciliationFindingFactory,
    ServerFactory,
    ServiceFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

SUPPORT_PERMISSIONS = {
    "provisioning.view_service",
    "provisioning.view_modulelogentry",
    "provisioning.view_reconciliationfinding",
    "accounts.view_customer",
}
#: The provisioning admin's pages that only read: a POST changes nothing there (405, or the
#: same page as a GET).
READ_ONLY_ENDPOINTS = {
    "provisioning_service_status": 405,
    "provisioning_service_attention": 200,
    "provisioning_service_connection_status": 405,
}


def permissions_of(group: Group) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def all_permissions() -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


def test_the_roles_are_groups_with_their_permissions():
    groups = {group.name: permissions_of(group) for group in Group.objects.all()}

    assert groups[SUPPORT] == SUPPORT_PERMISSIONS
    assert groups[SUPERADMIN] == all_permissions()
    assert {"accounts.view_customer", "accounts.change_customer"} <= groups[BILLING]
    assert {p for p in all_permissions() if p.startswith("billing.")} <= groups[BILLING]
    assert not {p for p in groups[BILLING] if p.startswith("provisioning.change_")}


def test_support_may_only_view():
    granted = {p for p in all_permissions() if role_grants(SUPPORT, p)}

    assert all(p.split(".")[1].startswith("view_") for p in granted)


def test_the_data_migration_makes_the_groups():
    Group.objects.filter(name__in=list(ROLES)).delete()
    migration = importlib.import_module("portal.accounts.migrations.0004_staff_roles")
    state = MigrationExecutor(connection).loader.project_state(("accounts", "0004_staff_roles"))

    migration.apply_roles(state.apps, None)

    assert permissions_of(Group.objects.get(name=SUPPORT)) == SUPPORT_PERMISSIONS


def test_migrate_puts_a_later_apps_permissions_in_their_role_and_restores_the_rest():
    support = Group.objects.get(name=SUPPORT)
    support.permissions.remove(Permission.objects.get(codename="view_service"))
    support.permissions.add(Permission.objects.get(codename="delete_service"))
    invoice_type = ContentType.objects.create(app_label="billing", model="laterinvoice")
    Permission.objects.create(
        content_type=invoice_type, codename="change_laterinvoice", name="Can change"
    )

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert permissions_of(support) == SUPPORT_PERMISSIONS
    assert "billing.change_laterinvoice" in permissions_of(Group.objects.get(name=BILLING))
    assert "billing.change_laterinvoice" in permissions_of(Group.objects.get(name=SUPERADMIN))


# A support user in the admin ----------------------------------------------------------------------


@pytest.fixture
def support_client() -> Client:
    user = StaffFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rows(customer) -> dict[type, object]:
    """One row of each model whose admin URLs take an object, provisioning's among them."""
    service = ServiceFactory(
        customer=customer,
        server=ServerFactory(),
        network="office",
        remote_name="vpn-support",
        status=ServiceStatus.FAILED,
        needs_attention=True,
        pending_action=ServiceAction.CREATE,
    )
    return {
        Service: service,
        Server: service.server,
        ReconciliationFinding: ReconciliationFindingFactory(server=service.server),
        ModuleLogEntry: ModuleLogEntryFactory(service=service, server=service.server),
        type(customer): customer,
    }


def snapshot(rows) -> tuple:
    service = Service.objects.get(pk=rows[Service].pk)
    return (
        service.status,
        service.needs_attention,
        service.pending_action,
        ServiceEvent.objects.count(),
        ModuleLogEntry.objects.count(),
        ReconciliationFinding.objects.filter(resolved_at__isnull=True).count(),
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/provisioning/service/",
        "/admin/provisioning/modulelogentry/",
        "/admin/accounts/customer/",
        "/admin/provisioning/reconciliationfinding/",
    ],
)
def test_support_opens_the_lists(support_client, rows, url):
    assert support_client.get(url).status_code == 200


def test_support_opens_a_service_read_only(support_client, rows):
    page = support_client.get(f"/admin/provisioning/service/{rows[Service].pk}/change/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "vpn-support" in content
    assert "/action/" not in content
    assert "/retry/" not in content


def model_admin_urls(rows) -> list[tuple[str, str]]:
    """(method, url) of every add, change and delete page of every model in the admin."""
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        row = rows.get(model) or model._default_manager.first()
        pk = row.pk if row is not None else 999999
        urls += [
            ("get", f"admin:{info[0]}_{info[1]}_add", ()),
            ("post", f"admin:{info[0]}_{info[1]}_add", ()),
        ]
        urls += [("post", f"admin:{info[0]}_{info[1]}_change", (pk,))]
        urls += [("get", f"admin:{info[0]}_{info[1]}_delete", (pk,))]
        urls += [("post", f"admin:{info[0]}_{info[1]}_delete", (pk,))]
    found = []
    for method, name, args in urls:
        try:
            found.append((method, reverse(name, args=args)))
        except NoReverseMatch:
            continue
    return found


def test_support_gets_403_on_every_add_change_and_delete(support_client, rows):
    before = snapshot(rows)
    answers = {
        (method, url): getattr(support_client, method)(url, {"post": "yes"}).status_code
        for method, url in model_admin_urls(rows)
    }

    assert answers
    assert {key: status for key, status in answers.items() if status != 403} == {}
    assert snapshot(rows) == before
    assert Service.objects.filter(pk=rows[Service].pk).exists()


def provisioning_endpoints(rows) -> list[tuple[str, str]]:
    """(name, url) of every page the provisioning admin adds to Django's (buttons, JSON)."""
    standard = ("_changelist", "_add", "_change", "_delete", "_history", "_autocomplete")
    objects = {"service": rows[Service], "server": rows[Server]}
    objects["reconciliationfinding"] = rows[ReconciliationFinding]
    endpoints = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "provisioning":
            continue
        for pattern in model_admin.get_urls():
            name = pattern.name if isinstance(pattern, URLPattern) else None
            if not name or name.endswith(standard):
                continue
            kwargs = {}
            if "object_id" in pattern.pattern.converters:
                kwargs["object_id"] = objects[model._meta.model_name].pk
            if "action" in pattern.pattern.converters:
                for action in ServiceAction.values:
                    endpoints.append(
                        (name, reverse(f"admin:{name}", kwargs={**kwargs, "action": action}))
                    )
                continue
            endpoints.append((name, reverse(f"admin:{name}", kwargs=kwargs)))
    return endpoints


def test_support_gets_403_on_every_provisioning_action(support_client, rows):
    endpoints = provisioning_endpoints(rows)
    before = snapshot(rows)

    answers = {
        url: (name, support_client.post(url, {"confirm": "yes"}).status_code)
        for name, url in endpoints
    }

    names = {name for name, _ in endpoints}
    assert {
        "provisioning_service_action",
        "provisioning_service_retry",
        "provisioning_service_refresh_usage",
        "provisioning_service_clear_attention",
        "provisioning_server_test_connection",
        "provisioning_reconciliationfinding_delete_orphan",
    } <= names
    assert len([url for url in answers if "/action/" in url]) == len(ServiceAction.values)
    expected = {
        url: (name, READ_ONLY_ENDPOINTS.get(name, 403)) for url, (name, _) in answers.items()
    }
    assert answers == expected
    assert snapshot(rows) == before


def test_support_is_offered_no_bulk_action(support_client, rows):
    for url in ("/admin/provisioning/service/", "/admin/accounts/customer/"):
        page = support_client.get(url).content.decode()
        assert 'name="action"' not in page
