"""Billing's scheduled work (beat entries in portal/celery.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from portal.billing.services.dunning import overdue_reminders_send
from portal.billing.services.renewals import renewals_issue

logger = logging.getLogger(__name__)


@shared_task(name="billing.issue_renewals", ignore_result=True)
def issue_renewals() -> int:
    """Daily: the renewal invoices that have come due (safe to run twice)."""
    issued = renewals_issue()
    logger.info("Issued %d renewal invoice(s)", len(issued))
    return len(issued)


@shared_task(name="billing.send_overdue_reminders", ignore_result=True)
def send_overdue_reminders() -> int:
    """Daily: reminders of invoices past their due date (each step once)."""
    sent = overdue_reminders_send()
    logger.info("Sent %d overdue reminder(s)", sent)
    return sent
