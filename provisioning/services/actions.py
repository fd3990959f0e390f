"""The worker's panel steps for suspend, unsuspend, terminate and change of package."""

from __future__ import annotations

from provisioning.exceptions import NotOnPanel
from provisioning.models import Service, ServiceAction, ServiceStatus
from provisioning.services.outbox import Claim, claim_panel, finish, hold_lease
from vpnpanel import ClientStatus

A = ServiceAction
S = ServiceStatus


def set_panel_status(claim: Claim) -> None:
    """Suspend disables the client (which disconnects it); unsuspend enables it again."""
    service = _on_panel(claim)
    suspend = service.pending_action == A.SUSPEND
    hold_lease(claim)
    claim_panel(claim, service.server).update_client(
        service.remote_name, status=ClientStatus.DISABLE if suspend else ClientStatus.ENABLE
    )
    if suspend:
        finish(claim, to_status=S.SUSPENDED, event="suspended")
    else:
        finish(claim, to_status=S.ACTIVE, event="unsuspended")


def terminate(claim: Claim) -> None:
    """Delete the client; one that is already gone counts as done."""
    service = claim.service
    if service.server is not None and service.create_posted_at is not None:
        hold_lease(claim)
        claim_panel(claim, service.server).delete_client_if_present(service.remote_name)
    finish(claim, to_status=S.TERMINATED, event="terminated", resolves_attention=True)


def apply_bandwidth(claim: Claim) -> None:
    """A change of package: the new product's bandwidth on the panel, then the product."""
    service = _on_panel(claim)
    product = service.pending_product or service.product
    product_settings = product.typed_settings
    hold_lease(claim)
    claim_panel(claim, service.server).update_client(
        service.remote_name,
        b_download=product_settings.download_mbps,
        b_upload=product_settings.upload_mbps,
    )
    finish(
        claim,
        to_status=None,
        event="package_changed",
        data={
            "product": product.pk,
            "download_mbps": product_settings.download_mbps,
            "upload_mbps": product_settings.upload_mbps,
        },
    )


def _on_panel(claim: Claim) -> Service:
    service = claim.service
    if service.server is None or not service.remote_name:
        raise NotOnPanel("This service has no client on a panel.")
    return service
