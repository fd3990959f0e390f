"""The service information page's plan card (registered in ``StoreConfig.ready``): the plan and
its price, a change of plan waiting for payment, and the "Change plan" link.

Shown for an active service only: one query (its subscription), two when a change waits."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from portal.billing.models import PlanChange, PlanChangeStatus, Subscription
from provisioning.models import Service, ServiceStatus

TEMPLATE = "store/_plan_card.html"


def plan_cards(request: HttpRequest, service: Service, section: str) -> list[SafeString]:
    if section != "information" or service.status != ServiceStatus.ACTIVE:
        return []
    pending_id = PlanChange.objects.filter(
        subscription=OuterRef("pk"), status=PlanChangeStatus.PENDING
    ).values("pk")[:1]
    subscription = (
        Subscription.objects.filter(service_id=service.pk)
        .annotate(pending_change_id=Subquery(pending_id))
        .first()
    )
    if subscription is None:
        return []
    pending = None
    if subscription.pending_change_id is not None:
        pending = PlanChange.objects.select_related("to_product", "invoice").get(
            pk=subscription.pending_change_id
        )
    context = {"service": service, "subscription": subscription, "pending": pending}
    return [render_to_string(TEMPLATE, context, request=request)]
