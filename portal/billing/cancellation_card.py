"""The service information page's cancellation card (registered in ``BillingConfig.ready``):
the form to ask for a cancellation, or the open request's state with "Withdraw", and a rejected
request's answer.

Nothing is asked of a service that is not running (or suspended); a running one costs one query
(its subscription, with its latest request's id), two when it has a request."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from portal.billing.models import (
    CancellationRequest,
    CancellationStatus,
    CancellationWhen,
    Subscription,
)
from portal.billing.services.cancellations import CANCELLABLE_STATUSES
from provisioning.models import Service, ServiceAction

TEMPLATE = "billing/_cancellation_card.html"


def cancellation_cards(request: HttpRequest, service: Service, section: str) -> list[SafeString]:
    if section != "information" or service.status not in CANCELLABLE_STATUSES:
        return []
    latest_id = CancellationRequest.objects.filter(subscription=OuterRef("pk")).values("pk")[:1]
    subscription = (
        Subscription.objects.filter(service_id=service.pk)
        .annotate(latest_cancellation_id=Subquery(latest_id))
        .first()
    )
    if subscription is None:
        return []
    latest = None
    if subscription.latest_cancellation_id is not None:
        latest = CancellationRequest.objects.get(pk=subscription.latest_cancellation_id)
    context = {
        "service": service,
        "subscription": subscription,
        "latest": latest,
        "open": latest if latest is not None and latest.is_open else None,
        "rejected": latest if latest and latest.status == CancellationStatus.REJECTED else None,
        "ending": service.pending_action == ServiceAction.TERMINATE,
        "choices": CancellationWhen,
    }
    return [render_to_string(TEMPLATE, context, request=request)]
