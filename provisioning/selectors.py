"""Read queries of provisioning, shaped for the admin and other views (no writes here)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from provisioning.models import (
    LIVE_STATUSES,
    ModuleLogEntry,
    ReconciliationFinding,
    Server,
    Service,
    ServiceEvent,
    ServiceStatus,
    UsageSnapshot,
)
from provisioning.naming import render_name_rule
from provisioning.product_settings import ProductSettings
from provisioning.usage import bytes_to_gb, current_month

SERVICE_LOG_LIMIT = 50
# The sample a name rule is rendered with in the product form (and by its live preview script).
NAME_RULE_SAMPLE_CLIENT_ID = 1042
NAME_RULE_SAMPLE_SERVICE_ID = 7311
NAME_RULE_SAMPLE_SEED = 0


def service_events(service: Service) -> QuerySet[ServiceEvent]:
    return ServiceEvent.objects.filter(service=service).select_related("actor")


def service_module_log(service: Service, *, limit: int = SERVICE_LOG_LIMIT) -> list[ModuleLogEntry]:
    """The most recent panel calls made for ``service``, newest first."""
    rows = ModuleLogEntry.objects.filter(service=service).select_related("server")
    return list(rows.order_by("-created_at", "-id")[:limit])


def _parked() -> Q:
    return ~Q(pending_action="") & Q(action_failed_at__isnull=False)


def _needs_admin() -> Q:
    return Q(status=ServiceStatus.FAILED) | _parked() | Q(needs_attention=True)


def parked_action_counts() -> dict[str, int]:
    """How many actions the worker gave up on wait for an admin's retry, per action."""
    rows = Service.objects.filter(_parked()).values_list("pending_action").annotate(Count("pk"))
    return dict(rows.order_by())


def services_needing_attention() -> QuerySet[Service]:
    """Failed services, parked actions and services flagged for an admin (e.g. an orphan name)."""
    return (
        Service.objects.filter(_needs_admin())
        .select_related("customer__user", "product", "server")
        .order_by("-updated_at", "-id")
    )


def findings_open() -> QuerySet[ReconciliationFinding]:
    return (
        ReconciliationFinding.objects.filter(resolved_at__isnull=True)
        .select_related("server", "service")
        .order_by("-last_seen_at", "-id")
    )


def servers_incompletely_reconciled() -> QuerySet[Server]:
    """Enabled servers whose last reconciliation could not compare everything."""
    return Server.objects.filter(enabled=True, reconciliation_complete=False).order_by("name")


@dataclass(frozen=True)
class AttentionCounts:
    services: int
    findings: int
    servers: int = 0

    @property
    def total(self) -> int:
        return self.services + self.findings + self.servers


def attention_counts() -> AttentionCounts:
    return AttentionCounts(
        services=Service.objects.filter(_needs_admin()).count(),
        findings=ReconciliationFinding.objects.filter(resolved_at__isnull=True).count(),
        servers=servers_incompletely_reconciled().count(),
    )


def name_rule_sample(rule: str, *, now: datetime | None = None) -> str | None:
    """``rule`` rendered for a sample customer and service, or None when the rule is invalid."""
    try:
        rule = ProductSettings.from_json({"client_name_rule": rule}).client_name_rule
    except ValidationError:
        return None
    return render_name_rule(
        rule,
        client_id=NAME_RULE_SAMPLE_CLIENT_ID,
        service_id=NAME_RULE_SAMPLE_SERVICE_ID,
        now=now or timezone.now(),
        rng=random.Random(NAME_RULE_SAMPLE_SEED),
    )


@dataclass(frozen=True)
class MetricRow:
    """One line of the admin's "Metric statistics" block (the seed's WHMCS usage block)."""

    metric: str
    enabled: bool
    usage_gb: Decimal | None
    last_update: datetime | None


def service_metric_statistics(service: Service) -> list[MetricRow]:
    """This month's usage of a service, as last pulled; values in decimal GB (10^9 bytes)."""
    product_settings = service.product.typed_settings
    year, month = current_month()
    snapshot = UsageSnapshot.objects.filter(service=service, year=year, month=month).first()
    pulled = snapshot.pulled_at if snapshot else None
    return [
        MetricRow(
            "Bandwidth Usage Download (GB)",
            product_settings.metric_download,
            bytes_to_gb(snapshot.download_bytes) if snapshot else None,
            pulled,
        ),
        MetricRow(
            "Bandwidth Usage Upload (GB)",
            product_settings.metric_upload,
            bytes_to_gb(snapshot.upload_bytes) if snapshot else None,
            pulled,
        ),
    ]


def customer_services(*, user: Any) -> QuerySet[Service]:
    """The services a logged-in customer may see: their own, never another customer's."""
    return Service.objects.filter(customer__user=user).select_related(
        "product", "server", "customer"
    )


def customer_service(*, user: Any, service_id: int) -> Service | None:
    """One of the customer's services, or None (views answer 404, never 403 with data)."""
    return customer_services(user=user).filter(pk=service_id).first()


def staff_servers() -> QuerySet[Server]:
    """Every panel with its group and ``live_service_count`` (the staff API)."""
    live = Count("services", filter=Q(services__status__in=LIVE_STATUSES))
    return Server.objects.select_related("group").annotate(live_service_count=live).order_by("name")


def staff_services() -> QuerySet[Service]:
    """Every service with what its list shows (the staff API), newest first."""
    return Service.objects.select_related("customer__user", "product", "server").order_by("-id")
