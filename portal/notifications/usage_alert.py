"""The usage alert email: this month's traffic of a service passed the threshold its customer
set (provisioning announces it once per threshold and month; the once key makes a repeated
task send nothing more)."""

from __future__ import annotations

import calendar
import logging

from django.conf import settings
from django.urls import reverse

from portal.notifications.email import send
from provisioning.models import Service, ServiceStatus, UsageSnapshot
from provisioning.usage import bytes_to_gb

logger = logging.getLogger(__name__)

KIND = "usage_alert"


def usage_alert_once_key(service_id: int, year: int, month: int, threshold_gb: int) -> str:
    return f"{KIND}:service:{service_id}:{year}-{month:02d}:{threshold_gb}"


def usage_alert_email_send(*, service_id: int, year: int, month: int, threshold_gb: int) -> bool:
    """Send the alert with the month's figures as last pulled; whether it was sent now."""
    snapshot = (
        UsageSnapshot.objects.select_related("service__customer__user", "service__product")
        .filter(service_id=service_id, year=year, month=month)
        .first()
    )
    if snapshot is None or snapshot.service.status == ServiceStatus.TERMINATED:
        logger.info(
            "Service %s: no usage for %s-%s or terminated: no alert", service_id, year, month
        )
        return False
    service = snapshot.service
    address = service.customer.user.email
    if not address:
        logger.warning("Service %s: its customer has no email address; no usage alert", service_id)
        return False
    return send(
        kind=KIND,
        to=address,
        template="usage_alert",
        context=_context(service, snapshot, threshold_gb),
        obj=service,
        once_key=usage_alert_once_key(service_id, year, month, threshold_gb),
    )


def _context(service: Service, snapshot: UsageSnapshot, threshold_gb: int) -> dict[str, object]:
    path = reverse("client_area:service_traffic", args=[service.pk])
    query = f"?year={snapshot.year}&month={snapshot.month}"
    return {
        "customer_name": service.customer.display_name,
        "service_id": service.pk,
        "plan": service.product.name,
        "threshold_gb": threshold_gb,
        "used_gb": bytes_to_gb(snapshot.download_bytes + snapshot.upload_bytes),
        "download_gb": bytes_to_gb(snapshot.download_bytes),
        "upload_gb": bytes_to_gb(snapshot.upload_bytes),
        "month_name": f"{calendar.month_name[snapshot.month]} {snapshot.year}",
        "pulled_at": snapshot.pulled_at,
        "traffic_url": f"{settings.PORTAL_BASE_URL}{path}{query}",
    }
