"""Read queries of provisioning, shaped for the admin and other views (no writes here)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from provisioning.models import (
    ModuleLogEntry,
    ReconciliationFinding,
    Service,
    ServiceEvent,
    ServiceStatus,
)
from provisioning.naming import render_name_rule
from provisioning.product_settings import ProductSettings

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


def _needs_admin() -> Q:
    parked = ~Q(pending_action="") & Q(action_failed_at__isnull=False)
    return Q(status=ServiceStatus.FAILED) | parked | Q(needs_attention=True)


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


@dataclass(frozen=True)
class AttentionCounts:
    services: int
    findings: int

    @property
    def total(self) -> int:
        return self.services + self.findings


def attention_counts() -> AttentionCounts:
    return AttentionCounts(
        services=Service.objects.filter(_needs_admin()).count(),
        findings=ReconciliationFinding.objects.filter(resolved_at__isnull=True).count(),
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
