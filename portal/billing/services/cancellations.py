"""Cancellation: a customer asks to end a service at the end of its paid period or at once.

- **Request** (the customer): one open request (requested or approved) per subscription, refused
  a second time by the database; asked twice, the open one is returned. The end of the period is
  the subscription's next due date (what is paid runs until then); at once is today.
- **Approval**: at once when ``BILLING_CANCELLATION_AUTO_APPROVE`` is on (the default), else by an
  admin. Approving stops the renewals (none is issued for a period starting on or after the
  termination day, ``renewals.py``), cancels the unpaid renewal invoices of time after that day
  (what was paid on them credited), and emails "cancellation confirmed". A request whose day has
  come (at once) is terminated there and then.
- **Rejection** (an admin, with a note the customer reads on the service's page) and
  **withdrawal** (the customer, until the termination has run) close the request; renewals go on.
- **The daily run** (``cancellations_run``, from ``billing.run_dunning``) terminates each approved
  request's service on its day through provisioning's ``service_terminate`` and marks it done;
  a service busy with another action is tried again the next run.

Every step writes a ``BillingEvent`` in its transaction. Locks are taken as payments and dunning
take them: the renewal invoices first, then the subscription, then the service.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.billing import events
from portal.billing.emails import cancellation_confirmed_send
from portal.billing.models import (
    CancellationRequest,
    CancellationStatus,
    CancellationWhen,
    Invoice,
    InvoiceStatus,
    Renewal,
    Subscription,
)
from portal.billing.services.invoices import BillingRefused, invoice_cancel
from portal.billing.services.locking import subscription_lock
from portal.core import clock
from provisioning.exceptions import ProvisioningError
from provisioning.models import Service, ServiceAction, ServiceStatus
from provisioning.services import service_terminate

logger = logging.getLogger(__name__)

S = CancellationStatus
CANCELLABLE_STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
AUTO_APPROVED = "Approved automatically (BILLING_CANCELLATION_AUTO_APPROVE)."


def is_cancellable(service: Service) -> bool:
    """Whether the customer may ask to cancel: running (or suspended), not already ending."""
    return (
        service.status in CANCELLABLE_STATUSES and service.pending_action != ServiceAction.TERMINATE
    )


def cancellation_request(
    *, subscription: Subscription, when: str, reason: str, actor: Any
) -> CancellationRequest:
    """Ask to cancel the subscription's service ``when`` (a ``CancellationWhen``); approved at
    once when ``BILLING_CANCELLATION_AUTO_APPROVE`` is on. Asked again while a request is open
    (or right after an immediate one ended the service), that request is returned unchanged."""
    if when not in CancellationWhen.values:
        raise BillingRefused("Choose when the service should end.")
    try:
        with transaction.atomic():
            return _request(subscription.pk, when, reason.strip()[:500], actor)
    except IntegrityError:  # another request opened at the same moment: that one stands
        existing = _latest_standing(subscription.pk)
        if existing is None:
            raise
        return existing


def _request(subscription_id: int, when: str, reason: str, actor: Any) -> CancellationRequest:
    subscription = subscription_lock(subscription_id)
    if (existing := _latest_standing(subscription_id)) is not None:
        return existing
    service = Service.objects.get(pk=subscription.service_id)
    if not is_cancellable(service):
        raise BillingRefused("This service cannot be cancelled: it is not running.")
    today = clock.today()
    cancellation = CancellationRequest.objects.create(
        subscription=subscription,
        when=when,
        reason=reason,
        terminate_on=today if when == CancellationWhen.IMMEDIATELY else subscription.next_due_date,
    )
    events.record(
        customer_id=subscription.customer_id, actor=actor, action="cancellation_requested",
        service=subscription.service_id, when=when, terminate_on=cancellation.terminate_on,
        reason=reason,
    )  # fmt: skip
    if settings.BILLING_CANCELLATION_AUTO_APPROVE:
        _approve(cancellation, subscription, actor=None, note=AUTO_APPROVED, today=today)
    return cancellation


def _latest_standing(subscription_id: int) -> CancellationRequest | None:
    """The open request, or the one that ended the service (a repeated request finds it)."""
    latest = (
        CancellationRequest.objects.filter(subscription_id=subscription_id)
        .exclude(status__in=(S.REJECTED, S.WITHDRAWN))
        .select_related("subscription__service")
        .first()
    )
    if latest is None or latest.is_open or not is_cancellable(latest.subscription.service):
        return latest
    return None


def cancellation_approve(
    *, cancellation: CancellationRequest, actor: Any, note: str = ""
) -> CancellationRequest:
    """Approve a waiting request (see the module docstring); approving again changes nothing."""
    with transaction.atomic():
        subscription = subscription_lock(cancellation.subscription_id)
        locked = CancellationRequest.objects.select_for_update().get(pk=cancellation.pk)
        if locked.status in (S.APPROVED, S.DONE):
            return locked
        if locked.status != S.REQUESTED:
            raise BillingRefused(f"This request is {locked.get_status_display().lower()}.")
        _approve(locked, subscription, actor=actor, note=note, today=clock.today())
    return locked


def _approve(
    cancellation: CancellationRequest,
    subscription: Subscription,
    *,
    actor: Any,
    note: str,
    today: date,
) -> None:
    if cancellation.when == CancellationWhen.END_OF_PERIOD:
        # paid on since it was asked: the paid time runs to the new due date
        cancellation.terminate_on = max(cancellation.terminate_on, subscription.next_due_date)
    cancellation.status = S.APPROVED
    cancellation.decided_by = actor if getattr(actor, "pk", None) else None
    cancellation.decided_at = timezone.now()
    cancellation.admin_note = note
    cancellation.save()
    cancelled = _renewals_after_cancel(cancellation)
    events.record(
        customer_id=subscription.customer_id, actor=actor, action="cancellation_approved",
        service=subscription.service_id, terminate_on=cancellation.terminate_on,
        invoices_cancelled=", ".join(str(invoice) for invoice in cancelled) or "none",
    )  # fmt: skip
    cancellation_confirmed_send(cancellation=cancellation)
    if cancellation.terminate_on <= today:
        _terminate(cancellation, subscription)


def _renewals_after_cancel(cancellation: CancellationRequest) -> list[Invoice]:
    """Cancel the unpaid renewal invoices of time after the termination day (paid parts go to
    credit): nobody pays for, or is reminded of, a period the service will not run."""
    unpaid = Renewal.objects.filter(
        subscription_id=cancellation.subscription_id,
        superseded=False,
        invoice__status=InvoiceStatus.UNPAID,
        period_end__gt=cancellation.terminate_on,
    ).select_related("invoice")
    reason = f"The service is cancelled from {cancellation.terminate_on:%d %b %Y}"
    return [
        invoice_cancel(invoice=renewal.invoice, actor=None, reason=reason, credit_paid=True)
        for renewal in unpaid
    ]


def cancellation_reject(
    *, cancellation: CancellationRequest, actor: Any, note: str
) -> CancellationRequest:
    """Refuse a waiting request; ``note`` is shown to the customer on the service's page."""
    with transaction.atomic():
        subscription = subscription_lock(cancellation.subscription_id)
        locked = CancellationRequest.objects.select_for_update().get(pk=cancellation.pk)
        if locked.status == S.REJECTED:
            return locked
        if locked.status != S.REQUESTED:
            raise BillingRefused(f"This request is {locked.get_status_display().lower()}.")
        locked.status = S.REJECTED
        locked.decided_by = actor if getattr(actor, "pk", None) else None
        locked.decided_at = timezone.now()
        locked.admin_note = note
        locked.save()
        events.record(
            customer_id=subscription.customer_id, actor=actor, action="cancellation_rejected",
            service=subscription.service_id, note=note,
        )  # fmt: skip
    return locked


def cancellation_withdraw(*, cancellation: CancellationRequest, actor: Any) -> CancellationRequest:
    """The customer takes back an open request, until its termination has run; renewals go on
    (a renewal invoice cancelled by the approval is issued again by the next daily run)."""
    with transaction.atomic():
        subscription = subscription_lock(cancellation.subscription_id)
        locked = CancellationRequest.objects.select_for_update().get(pk=cancellation.pk)
        if locked.status == S.WITHDRAWN:
            return locked
        if not locked.is_open:
            raise BillingRefused("This cancellation can no longer be withdrawn.")
        locked.status = S.WITHDRAWN
        locked.save(update_fields=["status"])
        events.record(
            customer_id=subscription.customer_id, actor=actor, action="cancellation_withdrawn",
            service=subscription.service_id,
        )  # fmt: skip
    return locked


def cancellations_run(*, today: date | None = None) -> int:
    """Terminate the service of each approved request whose day has come and mark it done;
    returns how many now (run again, none: a done request is not approved any more)."""
    today = today or clock.today()
    _ended_otherwise_close()
    due = CancellationRequest.objects.filter(status=S.APPROVED, terminate_on__lte=today)
    done = 0
    for cancellation_id, subscription_id in due.values_list("pk", "subscription_id"):
        with transaction.atomic():
            subscription = subscription_lock(subscription_id)
            locked = CancellationRequest.objects.select_for_update().get(pk=cancellation_id)
            if locked.status == S.APPROVED and locked.terminate_on <= today:
                done += _terminate(locked, subscription)
    return done


def _ended_otherwise_close() -> int:
    """Close the open requests of services an admin or dunning terminated meanwhile: there is
    nothing left to cancel, and the admin's list of waiting requests should not show them."""
    ended = list(
        CancellationRequest.objects.filter(
            status__in=(S.REQUESTED, S.APPROVED),
            subscription__service__status=ServiceStatus.TERMINATED,
        ).select_related("subscription")
    )
    for cancellation in ended:
        with transaction.atomic():
            closed = CancellationRequest.objects.filter(
                pk=cancellation.pk, status__in=(S.REQUESTED, S.APPROVED)
            ).update(status=S.DONE, done_at=timezone.now())
            if closed:
                events.record(
                    customer_id=cancellation.subscription.customer_id,
                    action="cancellation_done", service=cancellation.subscription.service_id,
                    reason="The service had already been terminated",
                )  # fmt: skip
    return len(ended)


def _terminate(cancellation: CancellationRequest, subscription: Subscription) -> bool:
    """Ask provisioning to terminate (idempotent; the panel work runs after commit) and mark
    the request done; False (the next run asks again) while another action is in flight."""
    service = Service.objects.get(pk=subscription.service_id)
    reason = f"Cancelled by the customer (request #{cancellation.pk})"
    try:
        service_terminate(service=service, actor=None, reason=reason)
    except ProvisioningError as exc:
        logger.info("Cancellation %s: service %s not terminated now: %s",
                    cancellation.pk, service.pk, exc)  # fmt: skip
        return False
    subscription.suspended_for = None  # never restored: it is ending
    subscription.save(update_fields=["suspended_for"])
    cancellation.status = S.DONE
    cancellation.done_at = timezone.now()
    cancellation.save(update_fields=["status", "done_at"])
    events.record(
        customer_id=subscription.customer_id, action="cancellation_done",
        service=subscription.service_id, reason=reason,
    )  # fmt: skip
    return True
