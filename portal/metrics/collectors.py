"""The series read at the scrape: the recorded ones, and those the database and broker hold.

Parked actions and invoices are counted in the database, which holds their truth for every machine
at once (invoices are never deleted and a paid one keeps ``paid_at``, so those counts only grow,
as counters must). The queue length is the broker's: on Redis the length of the default queue's
lists, on the embedded filesystem broker the number of its message files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from portal.billing.selectors import invoice_counts
from portal.celery import app as celery_app
from portal.core.metrics import StoredMetricsCollector
from provisioning.models import ServiceAction
from provisioning.selectors import parked_action_counts

logger = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        parked = GaugeMetricFamily(
            "portal_provisioning_parked_actions",
            "Actions the worker gave up on, waiting for an admin's retry, by action.",
            labels=["action"],
        )
        counts = parked_action_counts()
        for action in ServiceAction.values:
            parked.add_metric([action], counts.get(action, 0))
        yield parked
        invoices = invoice_counts()
        issued = CounterMetricFamily(
            "portal_invoices_issued",
            "Invoices and credit notes issued, by kind.",
            labels=["kind"],
        )
        issued.add_metric(["invoice"], invoices["invoices_issued"])
        issued.add_metric(["credit_note"], invoices["credit_notes_issued"])
        yield issued
        yield CounterMetricFamily(
            "portal_invoices_paid", "Invoices paid.", value=invoices["invoices_paid"]
        )


class QueueCollector(Collector):
    """The default queue's length; left out of the scrape (and logged) when the broker is down."""

    def collect(self) -> Iterator[Metric]:
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        try:
            length = queue_length(queue)
        except Exception as exc:
            logger.warning("Metrics: cannot read the length of queue %s: %s", queue, exc)
            return
        family = GaugeMetricFamily(
            "portal_celery_queue_length",
            "Task messages waiting in the broker for a worker, by queue.",
            labels=["queue"],
        )
        family.add_metric([queue], length)
        yield family


def queue_length(queue: str) -> int:
    with celery_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # Redis keeps no key for an empty queue
            return 0


def scrape() -> bytes:
    """Every series in Prometheus' text format."""
    registry = CollectorRegistry()
    for collector in (StoredMetricsCollector(), DatabaseCollector(), QueueCollector()):
        registry.register(collector)
    return generate_latest(registry)
