"""Billing's scheduled work (beat entries in portal/celery.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task

from portal.billing.services.cancellations import cancellations_run
from portal.billing.services.dunning import (
    ended_services_renewals_cancel,
    overdue_reminders_send,
    overdue_services_suspend,
    overdue_services_terminate,
    paid_service_restore,
    paid_services_restore,
    unpaid_orders_cancel,
)
from portal.billing.services.plan_changes import plan_changes_run
from portal.billing.services.renewals import renewals_issue
from portal.billing.services.usage import usage_charges_issue

logger = logging.getLogger(__name__)


@shared_task(name="billing.issue_renewals", ignore_result=True)
def issue_renewals() -> int:
    """Daily: the renewal invoices that have come due (safe to run twice)."""
    issued = renewals_issue()
    logger.info("Issued %d renewal invoice(s)", len(issued))
    return len(issued)


@shared_task(name="billing.issue_usage_charges", ignore_result=True)
def issue_usage_charges() -> int:
    """Daily: each metered service's traffic of the months that have ended and were not billed
    (safe to run twice)."""
    made = usage_charges_issue()
    logger.info("Billed %d month(s) of traffic", len(made))
    return len(made)


@shared_task(name="billing.run_dunning", ignore_result=True)
def run_dunning() -> dict[str, object]:
    """Daily: restore what was paid, terminate what customers cancelled, remind, suspend,
    terminate, cancel unpaid orders, finish or expire changes of plan (each step safe to
    repeat)."""
    steps: dict[str, Callable[[], object]] = {
        "restored": paid_services_restore,
        "cancellations_done": cancellations_run,
        "ended_cancelled": ended_services_renewals_cancel,
        "reminded": overdue_reminders_send,
        "suspended": overdue_services_suspend,
        "terminated": overdue_services_terminate,
        "orders_cancelled": unpaid_orders_cancel,
        "plan_changes": plan_changes_run,
    }
    done: dict[str, object] = {}
    for name, step in steps.items():
        try:
            outcome = step()
        except Exception:  # one broken step must not skip the others for everyone today
            logger.exception("Dunning step %s failed; the next steps run, tomorrow retries", name)
            done[name] = "failed"
            continue
        if isinstance(outcome, dict):
            done.update({f"{name}_{key}": count for key, count in outcome.items()})
        else:
            done[name] = outcome
    logger.info("Dunning: %s", done)
    return done


@shared_task(name="billing.restore_paid_service", bind=True, ignore_result=True, max_retries=30)
def restore_paid_service(self, subscription_id: int) -> str:
    """After a payment: unsuspend the service dunning suspended, once its suspension has reached
    the panel — asked again after 10 s, doubling up to 10 min (about four hours in all, longer
    than provisioning's retries); the daily run is the safety net."""
    outcome = paid_service_restore(subscription_id=subscription_id)
    if outcome == "wait":
        raise self.retry(countdown=min(10 * 2**self.request.retries, 600))
    return outcome
