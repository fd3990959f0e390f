"""The lifecycle API: one function per verb, for the admin, the client area, billing and the API.

Every verb is keyword-only, takes the ``actor`` (a user, or ``None`` for the system) and a
``reason`` (kept in the audit trail), and is idempotent: asked again while the same action is
pending (queued, running or parked) or after it is done, it changes nothing and returns the
service — payments, webhooks and dunning runs repeat. A request the state does not allow raises
:class:`ActionRefused` (:class:`ActionInProgress` while another action is in flight) and changes
nothing. The panel work itself happens later, in the worker (``runner``), after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from portal.accounts.models import Customer
from provisioning.exceptions import ActionInProgress, ActionRefused
from provisioning.models import TRANSITIONS, Product, Service, ServiceAction, ServiceStatus
from provisioning.services.events import record_event
from provisioning.services.outbox import clear_action, queue_action

A = ServiceAction
S = ServiceStatus


def service_create(
    *, customer: Customer, product: Product, actor: Any, reason: str, idempotency_key: str
) -> Service:
    """A new service for ``customer``, queued for provisioning once this transaction commits.

    ``idempotency_key`` names the request (an order line, an admin's form): asked again with the
    same key, the service made the first time is returned and nothing else happens.
    """
    existing = _created_with(idempotency_key, customer, product)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            service = Service.objects.create(
                customer=customer, product=product, request_key=idempotency_key
            )
            queue_action(service, A.CREATE)
            record_event(service, actor, "created", {"product": product.pk, "reason": reason})
            service.save()
    except IntegrityError:
        existing = _created_with(idempotency_key, customer, product)
        if existing is None:
            raise
        return existing
    return service


def _created_with(key: str, customer: Customer, product: Product) -> Service | None:
    if not key:
        raise ValueError("service_create needs an idempotency_key")
    service = Service.objects.filter(request_key=key).first()
    if service is not None and (service.customer_id, service.product_id) != (
        customer.pk,
        product.pk,
    ):
        raise ActionRefused(f"The request {key!r} already created another service (#{service.pk}).")
    return service


def service_suspend(*, service: Service, actor: Any, reason: str) -> Service:
    """Disable the service's client on its panel (it disconnects); the service ends suspended."""
    return service_request_action(service=service, action=A.SUSPEND, actor=actor, reason=reason)


def service_unsuspend(*, service: Service, actor: Any, reason: str) -> Service:
    """Enable a suspended service's client again; the service ends active."""
    return service_request_action(service=service, action=A.UNSUSPEND, actor=actor, reason=reason)


def service_terminate(*, service: Service, actor: Any, reason: str) -> Service:
    """Delete the service's client on its panel (a missing one counts as deleted). Final."""
    return service_request_action(service=service, action=A.TERMINATE, actor=actor, reason=reason)


def service_change_package(
    *, service: Service, product: Product, actor: Any, reason: str
) -> Service:
    """Move the service to ``product``: its bandwidth goes to the panel, then its product."""
    return service_request_action(
        service=service, action=A.CHANGE_PACKAGE, actor=actor, reason=reason, product=product
    )


def service_request_action(
    *, service: Service, action: str, actor: Any, reason: str, product: Product | None = None
) -> Service:
    """Queue ``action`` (the verbs above are this with their action); see the module docstring.

    A parked action of another kind may be replaced (the audit row says which).
    """
    if action not in TRANSITIONS:
        raise ActionRefused(f"Unknown action {action!r}.")
    product_id = product.pk if product is not None else None
    if action == A.CHANGE_PACKAGE and product_id is None:
        raise ActionRefused("Choose the product to change to.")
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.is_pending(action, product_id) or locked.is_done(action, product_id):
            return locked
        data: dict[str, Any] = {"reason": reason}
        if locked.action_parked:
            data["replaces"] = locked.pending_action
        if locked.action_parked and locked.reached(action, product_id):
            # The state asked for holds already (the parked action never reached the panel):
            # dropping it keeps an admin's later retry from undoing this request.
            clear_action(locked)
            record_event(locked, actor, f"{action}_requested", data)
            locked.save()
            return locked
        _check_request(locked, action)
        if action == A.CHANGE_PACKAGE:
            data.update(from_product=locked.product_id, to_product=product_id)
        locked.pending_product = product if action == A.CHANGE_PACKAGE else None
        queue_action(locked, action)
        record_event(locked, actor, f"{action}_requested", data)
        locked.save()
    return locked


def _check_request(service: Service, action: str) -> None:
    if service.action_in_flight:
        raise ActionInProgress(
            f"“{service.get_pending_action_display()}” is still in progress; wait for it."
        )
    if not service.may_request(action):
        label = ServiceAction(action).label.lower()
        raise ActionRefused(f"A {service.get_status_display().lower()} service cannot {label}.")


def service_retry(*, service: Service, actor: Any, reason: str) -> Service:
    """Queue a parked action (or the create of a failed service) again. Asked again while that
    runs, or once it is done (nothing parked, not failed), it changes nothing."""
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.action_in_flight or not locked.can_retry:
            return locked
        action = locked.pending_action or A.CREATE
        queue_action(locked, action)
        record_event(locked, actor, f"{action}_retried", {"reason": reason})
        locked.save()
    return locked


def service_reapply_suspend(*, service_id: int, reason: str) -> bool:
    """Queue the disable of a suspended service's client again; False if the service moved on.

    Reconciliation's one automatic fix goes through the outbox like every other panel write, so
    the worker holds the service's lease while it disables the client and a later unsuspend can
    never be overwritten by it.
    """
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        if service.status != S.SUSPENDED or service.pending_action:
            return False
        queue_action(service, A.SUSPEND)
        record_event(service, None, "resuspend_requested", {"reason": reason})
        service.save()
    return True


def service_clear_attention(*, service: Service, actor: Any, reason: str = "") -> Service:
    """An admin has dealt with what the flag pointed at (e.g. deleted an orphan on the panel)."""
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if not locked.needs_attention:
            return locked
        flagged, locked.needs_attention, locked.attention_reason = (
            locked.attention_reason,
            False,
            "",
        )
        record_event(locked, actor, "attention_cleared", {"reason": flagged, "note": reason})
        locked.save()
    return locked
