"""The create algorithm: placement, the client's name, POST then PUT, rollback.

The common path costs four panel calls: ``system/status`` and ``available_ip`` (placement),
``POST client`` and the bandwidth ``PUT``. A foreign client is never taken over:

- The name and the target are persisted before the POST, and so is the SHA-256 of the VPN
  password sent with it (``create_fingerprints``, one per POST of that name). After a lost
  response, the retry asks for the client by name and adopts it only if it carries one of those
  passwords: a client that does not was there before us (our POST then answered "name in use",
  unapplied), so it is someone else's.
- "Name in use" on a name we never posted there is someone else's client: the next ``-1``,
  ``-2``, … name is tried, without asking the panel first.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import secrets
import string

from django.db import IntegrityError, transaction
from django.utils import timezone

from provisioning.exceptions import LicenceRefused, PlacementDeferred, ProvisioningError
from provisioning.licences import product_licence_refusal
from provisioning.models import Server, Service, ServiceStatus
from provisioning.naming import deduplicated, render_name_rule
from provisioning.placement import PlacementReport, accounts_taken, deployable_candidates
from provisioning.services.outbox import (
    Claim,
    claim_panel,
    finish,
    hold_lease,
    maybe_created_warning,
    park,
    update_claimed,
)
from vpnpanel import PanelClient, PanelError, PanelRejected, VpnClient

S = ServiceStatus
NAME_IN_USE = "The name is already in use"
MAX_RENAMES = 5
CAPACITY_MESSAGES = (
    "VPN account limit exceeded",
    "No free IP address",
    "IP address already in use",
)
PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 20


def provision(claim: Claim) -> None:
    """Create the service's client and cap its bandwidth; roll the client back if the cap fails."""
    service = claim.service
    _check_licence(service)
    client = _adopt_existing(claim) or _create_on_best_target(claim)
    if client is None:
        return
    service.network = client.network_name or service.network
    panel = claim_panel(claim, service.server)
    product_settings = service.product.typed_settings
    hold_lease(claim)
    try:
        panel.update_client(
            service.remote_name,
            b_download=product_settings.download_mbps,
            b_upload=product_settings.upload_mbps,
        )
    except PanelError as exc:
        _roll_back_create(claim, panel, exc)
        return
    finish(
        claim,
        to_status=S.ACTIVE,
        event="provisioned",
        data={"server": service.server_id, "network": client.network_name, "ipv4": client.ipv4},
        resolves_attention=True,
    )


def _check_licence(service: Service) -> None:
    """Refuse a new service of a product whose licence check failed, before any panel call.

    Once a POST may have reached the panel (``create_posted_at``) the create carries on: the
    client may exist, and adopting it (or rolling it back) is safer than leaving it orphaned.
    """
    if service.create_posted_at is not None:
        return
    refusal = product_licence_refusal(service.product, wait=True)
    if refusal:
        raise LicenceRefused(
            f"Not set up: the licence check of product “{service.product}” failed: {refusal} "
            "Fix the product's licence key, then retry this service."
        )


def _adopt_existing(claim: Claim) -> VpnClient | None:
    """After a possibly applied POST, the client may exist already: ours if it has our password.

    A client of that name without our password was there first: the POST was not applied, the
    name is someone else's, and the next attempt moves on to a fresh name.
    """
    service = claim.service
    if service.server is None or service.create_posted_at is None:
        return None
    client = claim_panel(claim, service.server).find_client(service.remote_name)
    if client is None:
        return None
    if _is_ours(client, _fingerprints(service)):
        return client
    if not client.password:
        raise ProvisioningError(
            f"A client named {service.remote_name!r} exists on {service.server}, and the panel "
            "does not show its password, so it cannot be told whether this service's lost create "
            "made it. Delete it on the panel if it is this service's, then retry."
        )
    update_claimed(claim, create_posted_at=None)
    _rename(claim)
    return None


def _is_ours(client: VpnClient, fingerprints: list[str]) -> bool:
    """Whether ``client`` carries the password one of our POSTs sent (services posted before
    fingerprints existed had their name checked free first: their name alone is proof)."""
    if not fingerprints:
        return True
    return bool(client.password) and _fingerprint(client.password) in fingerprints


def _fingerprints(service: Service) -> list[str]:
    return service.create_fingerprints.split()


def _fingerprint(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _create_on_best_target(claim: Claim) -> VpnClient | None:
    service = claim.service
    posted_to = service.server_id if service.create_posted_at is not None else None
    _assign_name(claim)
    servers = list(service.product.group.servers.all())
    if posted_to is not None:
        # An earlier POST there may still be applied late: never start a second client elsewhere.
        servers = [server for server in servers if server.pk == posted_to]
    report = PlacementReport()
    panels: dict[int, PanelClient] = {}

    def panel_for_server(server: Server) -> PanelClient:
        if server.pk not in panels:
            panels[server.pk] = claim_panel(claim, server)
        return panels[server.pk]

    candidates = deployable_candidates(
        service.product.typed_settings, servers, panel_for_server, report, service_id=service.pk
    )
    for candidate in candidates:
        if not _assign_target(claim, candidate.server, candidate.network):
            report.skip(candidate.server, candidate.network, "local cap reached meanwhile")
            continue
        try:
            return _post_client(
                claim,
                panel_for_server(candidate.server),
                candidate.network,
                posted_here_before=candidate.server.pk == posted_to,
            )
        except PanelRejected as exc:
            if not exc.api_message.startswith(CAPACITY_MESSAGES):
                raise
            report.skip(candidate.server, candidate.network, exc.api_message)
    if report.transient_failure:
        raise PlacementDeferred(f"No deployable server yet: {report.summary()}")
    park(
        claim,
        f"No deployable server/network: {report.summary()}. Nothing was created.",
        attention=maybe_created_warning(service),
    )
    return None


def _post_client(
    claim: Claim, panel: PanelClient, network: str | None, *, posted_here_before: bool
) -> VpnClient:
    """POST the client; "name in use" for a name we never posted here means someone else's.

    ``posted_here_before``: an earlier run posted this name to this server, and its client was
    not there when this run looked. It may have been applied since: "name in use" then means
    ours if the client has the password of one of our POSTs of that name.
    """
    service = claim.service
    for _ in range(MAX_RENAMES):
        earlier = _fingerprints(service)
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
        posted = " ".join([*earlier, _fingerprint(password)])
        update_claimed(claim, create_posted_at=timezone.now(), create_fingerprints=posted)
        try:
            return panel.create_client(
                network_name=network, name=service.remote_name, password=password
            )
        except PanelRejected as exc:
            if exc.api_message != NAME_IN_USE:
                update_claimed(claim, create_posted_at=None)
                raise
            if posted_here_before:
                existing = panel.find_client(service.remote_name)
                if existing is not None and _is_ours(existing, earlier):
                    return existing
            posted_here_before = False
            _rename(claim)
        except PanelError as exc:
            if not exc.maybe_applied:
                update_claimed(claim, create_posted_at=None)
            raise
    raise ProvisioningError(f"No free client name after {MAX_RENAMES} tries on {panel.label}.")


def _rename(claim: Claim) -> None:
    """The next free ``-1``, ``-2``, … name; another service taking it first just moves us on."""
    name = deduplicated(claim.service.remote_name, _name_is_taken)
    with contextlib.suppress(IntegrityError), transaction.atomic():
        update_claimed(claim, remote_name=name, create_posted_at=None, create_fingerprints="")


def _name_is_taken(name: str) -> bool:
    return Service.objects.filter(remote_name=name).exists()


def _assign_name(claim: Claim) -> None:
    """Choose and persist the client name before any POST, so a retry can find the client."""
    service = claim.service
    if service.remote_name:
        return
    rule = service.product.typed_settings.client_name_rule
    rng = random.SystemRandom()
    for _ in range(5):
        base = render_name_rule(
            rule,
            client_id=service.customer_id,
            service_id=service.pk,
            now=timezone.now(),
            rng=rng,
        )
        try:
            with transaction.atomic():
                update_claimed(claim, remote_name=deduplicated(base, _name_is_taken))
        except IntegrityError:
            continue
        return
    raise ProvisioningError("No free client name could be chosen; check the product's name rule.")


def _assign_target(claim: Claim, server: Server, network: str | None) -> bool:
    """Move the service to ``server`` unless the local cap is reached (checked under lock)."""
    with transaction.atomic():
        locked = Server.objects.select_for_update().get(pk=server.pk)
        service_id = claim.service.pk
        cap = locked.max_accounts
        if cap is not None and accounts_taken(locked, excluding_service_id=service_id) >= cap:
            return False
        update_claimed(claim, server=locked, network=network or "")
    return True


def _roll_back_create(claim: Claim, panel: PanelClient, cause: PanelError) -> None:
    """Bandwidth could not be applied: delete the uncapped client so it is never billed."""
    name = claim.service.remote_name
    reason = f"Bandwidth could not be applied ({cause})"
    hold_lease(claim)
    try:
        panel.delete_client_if_present(name)
    except PanelError as exc:
        park(
            claim,
            f"{reason}; rolling back failed too ({exc}).",
            attention=f"Orphan client {name!r} may exist on {claim.service.server}: delete it "
            "on the panel or retry this service.",
        )
        return
    park(claim, f"{reason}; the client was deleted again.")
