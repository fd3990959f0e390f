"""The audit trail of a service: one ServiceEvent per change, in the change's transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from provisioning.exceptions import ProvisioningError
from provisioning.models import Service, ServiceEvent, ServiceStatus

S = ServiceStatus


def record_event(
    service: Service,
    actor: Any,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    from_status: str | None = None,
) -> None:
    """Audit ``action`` on ``service``; ``from_status`` differs from the status for a transition."""
    ServiceEvent.objects.create(
        service=service,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=service.status if from_status is None else from_status,
        to_status=service.status,
        data=data or {},
    )


def transition(
    service: Service, to_status: str, event: str, data: dict[str, Any] | None = None
) -> None:
    """The only place a status changes: checks the lifecycle table and writes the audit row."""
    if not service.can_transition_to(to_status):
        raise ProvisioningError(f"Service {service.pk}: {service.status} → {to_status} not allowed")
    from_status, service.status = service.status, to_status
    now = timezone.now()
    if to_status == S.ACTIVE and service.activated_at is None:
        service.activated_at = now
    if to_status == S.SUSPENDED:
        service.suspended_at = now
    if to_status == S.TERMINATED:
        service.terminated_at = now
    record_event(service, None, event, data, from_status=from_status)


def service_event_record(
    *, service: Service, actor: Any, action: str, data: dict[str, Any]
) -> None:
    """Audit a change that is not a status change (e.g. a fix applied by reconciliation)."""
    record_event(service, actor, action, data)
