"""The welcome email: sent once when a service becomes active for the first time.

What the customer needs to start (the seed's "Product Welcome Email"): the plan, the VPN client
name, the protocols its network offers and the link to the client area, where the configs are.
Never a password, key, config or one-time link: a mailbox is not a safe place for them, and the
client area (signed in) is.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from portal.notifications.email import send
from portal.notifications.models import EmailRecord
from provisioning.client_area.panel_reads import network_protocols
from provisioning.exceptions import ProvisioningError
from provisioning.models import Service, ServiceStatus

logger = logging.getLogger(__name__)

KIND = "welcome"
PROTOCOLS_CACHE_SECONDS = 300


def welcome_once_key(service_id: int) -> str:
    return f"{KIND}:service:{service_id}"


def welcome_email_send(*, service_id: int) -> bool:
    """Send the service's welcome email unless it was sent before; whether it was sent now."""
    once_key = welcome_once_key(service_id)
    if EmailRecord.objects.filter(once_key=once_key).exists():
        return False
    service = (
        Service.objects.select_related("customer__user", "product", "server")
        .filter(pk=service_id)
        .first()
    )
    if (
        service is None
        or service.activated_at is None
        or service.status == ServiceStatus.TERMINATED
    ):
        logger.info("Service %s is gone, never active or terminated: no welcome email", service_id)
        return False
    address = service.customer.user.email
    if not address:
        logger.warning(
            "Service %s: its customer has no email address; no welcome email", service_id
        )
        return False
    return send(
        kind=KIND,
        to=address,
        template="welcome",
        context=_context(service),
        obj=service,
        once_key=once_key,
    )


def _context(service: Service) -> dict[str, object]:
    path = reverse("client_area:service_detail", args=[service.pk])
    return {
        "customer_name": service.customer.display_name,
        "plan": service.product.name,
        "client_name": service.remote_name,
        "protocols": _protocols(service),
        "service_url": f"{settings.PORTAL_BASE_URL}{path}",
    }


def _protocols(service: Service) -> list[str]:
    """The network's protocols, or [] when the panel cannot say now (the mail goes anyway).

    Kept a few minutes per server and network: a burst of new services on one network (a sale)
    asks its panel once, not once per welcome email."""
    key = f"notifications:protocols:{service.server_id}:{service.network}"
    if service.network and (cached := cache.get(key)) is not None:
        return cached
    try:
        protocols = network_protocols(service, action="welcome_email")
    except ProvisioningError as exc:
        logger.warning("Service %s: welcome email without protocols: %s", service.pk, exc)
        return []
    if service.network:
        cache.set(key, protocols, PROTOCOLS_CACHE_SECONDS)
    return protocols
