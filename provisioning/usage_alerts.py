"""Usage alerts: the customer sets a monthly traffic threshold on a service and is emailed once
when this month's traffic (download and upload together, from the usage pull's snapshots)
passes it.

Provisioning only decides *that* a threshold was passed and announces it
(``signals.usage_threshold_crossed``, after the commit); notifications, which listens, sends the
email. Once per threshold per month: a conditional update of ``UsageAlert.alerted_for`` claims
the (month, threshold), so two pulls at once announce it once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from functools import partial

from django.db import transaction
from django.utils import timezone

from provisioning.models import BYTES_PER_GB, Service, UsageAlert, UsageSnapshot
from provisioning.signals import usage_threshold_crossed

logger = logging.getLogger(__name__)

MAX_THRESHOLD_GB = 1_000_000


def usage_alert_set(*, service: Service, threshold_gb: int | None) -> UsageAlert | None:
    """Set (or, with None, remove) the service's monthly threshold; a new threshold is armed
    again for this month, so it is announced by the next pull if this month's traffic is
    already above it."""
    if threshold_gb is None:
        UsageAlert.objects.filter(service=service).delete()
        return None
    if not 1 <= threshold_gb <= MAX_THRESHOLD_GB:
        raise ValueError(f"A threshold is 1 to {MAX_THRESHOLD_GB} GB.")
    alert, _ = UsageAlert.objects.update_or_create(
        service=service, defaults={"threshold_gb": threshold_gb}
    )
    return alert


def usage_alerts_check(snapshots: Iterable[UsageSnapshot], *, today: date | None = None) -> int:
    """Announce every threshold this month's ``snapshots`` passed and that was not announced
    yet; returns how many. One query for the batch's alerts, one update per alert passed."""
    today = today or timezone.now().date()
    this_month = (today.year, today.month)
    current = {
        snapshot.service_id: snapshot
        for snapshot in snapshots
        if (snapshot.year, snapshot.month) == this_month
    }
    if not current:
        return 0
    announced = 0
    for alert in UsageAlert.objects.filter(service_id__in=current.keys()):
        snapshot = current[alert.service_id]
        if snapshot.download_bytes + snapshot.upload_bytes < alert.threshold_gb * BYTES_PER_GB:
            continue
        key = _alerted_key(*this_month, alert.threshold_gb)
        claimed = (
            UsageAlert.objects.filter(pk=alert.pk, threshold_gb=alert.threshold_gb)
            .exclude(alerted_for=key)
            .update(alerted_for=key)
        )
        if claimed:
            announced += 1
            transaction.on_commit(
                partial(_announce, alert.service_id, *this_month, alert.threshold_gb)
            )
    return announced


def _alerted_key(year: int, month: int, threshold_gb: int) -> str:
    return f"{year}-{month:02d}:{threshold_gb}"


def _announce(service_id: int, year: int, month: int, threshold_gb: int) -> None:
    """A listener's failure must not fail the pull that found it: log it, go on."""
    for receiver, result in usage_threshold_crossed.send_robust(
        sender=Service, service_id=service_id, year=year, month=month, threshold_gb=threshold_gb
    ):
        if isinstance(result, Exception):
            logger.error(
                "Service %s: %r failed on usage_threshold_crossed: %s", service_id, receiver, result
            )
