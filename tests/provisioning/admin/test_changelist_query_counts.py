"""Every provisioning changelist costs the same number of queries for 2 rows as for 20."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from provisioning.models import (
    FindingKind,
    ModuleLogEntry,
    Product,
    ReconciliationFinding,
    Server,
    Service,
    ServiceStatus,
)
from tests.factories import (
    ModuleLogEntryFactory,
    ProductFactory,
    ReconciliationFindingFactory,
    ServerFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_rows(db) -> Callable[[str, int], None]:
    """Adds ``count`` rows of a kind, each with its own related rows (group, server, customer)."""
    created = {"n": 0}

    def unique() -> int:
        created["n"] += 1
        return created["n"]

    def server() -> Server:
        n = unique()
        return ServerFactory(group__name=f"group-{n}", hostname=f"p{n}.example.com")

    def product() -> Product:
        n = unique()
        return ProductFactory(
            group__name=f"pgroup-{n}", settings={"download_mbps": n, "upload_mbps": 1}
        )

    def service() -> Service:
        return ServiceFactory(
            product=product(),
            server=server(),
            remote_name=f"vpn-{unique()}",
            status=ServiceStatus.ACTIVE,
        )

    def log_entry() -> ModuleLogEntry:
        return ModuleLogEntryFactory(
            server=server(),
            service=service(),
            action="create",
            method="POST",
            path="client",
            request={"name": "x"},
            response={"data": {}},
        )

    def finding() -> ReconciliationFinding:
        return ReconciliationFindingFactory(
            server=server(), service=service(), kind=FindingKind.DRIFT, remote_name=f"c{unique()}"
        )

    def attention() -> Service:
        """A failed, flagged service and two open findings: both lists of the page grow."""
        row = service()
        Service.objects.filter(pk=row.pk).update(
            status=ServiceStatus.FAILED, needs_attention=True, action_failed_at=timezone.now()
        )
        ReconciliationFindingFactory(
            server=row.server, service=row, kind=FindingKind.GHOST, remote_name=row.remote_name
        )
        ReconciliationFindingFactory(
            server=row.server, kind=FindingKind.ORPHAN, remote_name=f"stray-{unique()}"
        )
        return row

    factories = {
        "service": service,
        "server": server,
        "product": product,
        "modulelogentry": log_entry,
        "reconciliationfinding": finding,
        "attention": attention,
    }

    def make(kind: str, count: int) -> None:
        for _ in range(count):
            factories[kind]()

    return make


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("kind", "url_name"),
    [
        ("service", "admin:provisioning_service_changelist"),
        ("server", "admin:provisioning_server_changelist"),
        ("product", "admin:provisioning_product_changelist"),
        ("modulelogentry", "admin:provisioning_modulelogentry_changelist"),
        ("reconciliationfinding", "admin:provisioning_reconciliationfinding_changelist"),
        ("attention", "admin:provisioning_service_attention"),
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, make_rows, kind, url_name):
    url = reverse(url_name)
    make_rows(kind, 2)
    admin_client.get(url)  # warm the session and content-type caches
    with_two = queries_for(admin_client, url)

    make_rows(kind, 18)
    with_twenty = queries_for(admin_client, url)

    assert with_twenty == with_two


def test_attention_page_lists_the_added_services_and_findings(admin_client, make_rows):
    make_rows("attention", 3)

    response = admin_client.get(reverse("admin:provisioning_service_attention"))

    assert (len(response.context["services"]), len(response.context["findings"])) == (3, 6)


def test_module_log_filtered_by_service_costs_the_same_for_2_rows_as_for_20(
    admin_client, make_rows
):
    make_rows("modulelogentry", 1)
    entry = ModuleLogEntry.objects.get()
    url = f"{reverse('admin:provisioning_modulelogentry_changelist')}?service__id__exact="
    url += str(entry.service_id)

    def add(count: int) -> None:
        for _ in range(count):
            ModuleLogEntryFactory(
                server=entry.server, service=entry.service, action="usage", path="x"
            )

    add(1)
    admin_client.get(url)
    with_two = queries_for(admin_client, url)
    add(18)
    with_twenty = queries_for(admin_client, url)

    assert with_twenty == with_two
    assert admin_client.get(url).context["cl"].result_count == 20
