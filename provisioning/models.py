from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from portal.core.fields import EncryptedTextField
from provisioning.product_settings import ProductSettings
from provisioning.validators import HOST_HELP, validate_panel_host

if TYPE_CHECKING:
    from vpnpanel import SystemStatus


class ServerGroup(models.Model):
    """Servers a product may deploy to; the product's ticked pairs come from this group."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Server(models.Model):
    """One PUQVPNCP panel the portal provisions on."""

    name = models.CharField(max_length=100, unique=True)
    group = models.ForeignKey(
        ServerGroup, on_delete=models.PROTECT, related_name="servers", null=True, blank=True
    )
    hostname = models.CharField(
        max_length=253, blank=True, validators=[validate_panel_host], help_text=HOST_HELP
    )
    ip_address = models.GenericIPAddressField(
        "IP address", null=True, blank=True, help_text="Used when the host name is empty."
    )
    port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text="Empty for 443 (secure) or 80. The panel's own default port is 8098.",
    )
    secure = models.BooleanField(
        default=True, help_text="Use HTTPS and verify the panel's TLS certificate."
    )
    api_token = EncryptedTextField(
        "API token", help_text="Bearer token from the panel's Profile → API Tokens."
    )
    max_accounts = models.PositiveIntegerField(
        "local account cap",
        null=True,
        blank=True,
        help_text="Deploy at most this many services here, below the panel's licence slots. "
        "Empty: the panel's slots are the only limit.",
    )
    enabled = models.BooleanField(default=True)
    reconciled_at = models.DateTimeField("last reconciliation", null=True, blank=True)
    reconciliation_complete = models.BooleanField(
        default=True,
        help_text="False when the last reconciliation could not compare everything: the panel "
        "was unreachable, or it does not list its clients (orphans unchecked).",
    )
    reconciliation_summary = models.TextField(blank=True)
    # The panel's licence slots as its system/status last answered (placement, Test connection,
    # the shop's availability check): the dashboard shows them without calling the panel.
    panel_accounts_used = models.PositiveIntegerField(
        "panel accounts used", null=True, blank=True, editable=False
    )
    panel_accounts_total = models.PositiveIntegerField(
        "panel licence slots", null=True, blank=True, editable=False
    )
    panel_status_at = models.DateTimeField(
        "panel slots as of", null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(hostname="") | models.Q(ip_address__isnull=False),
                name="server_has_hostname_or_ip",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return self.hostname or self.ip_address or ""

    def remember_panel_slots(self, status: SystemStatus) -> None:
        """Store the licence slots the panel just reported (one UPDATE of these columns only,
        so it never overwrites an admin's concurrent edit of the server)."""
        now = timezone.now()
        Server.objects.filter(pk=self.pk).update(
            panel_accounts_used=status.accounts_used,
            panel_accounts_total=status.accounts_total,
            panel_status_at=now,
        )
        self.panel_accounts_used = status.accounts_used
        self.panel_accounts_total = status.accounts_total
        self.panel_status_at = now


def validate_product_settings(value: Any) -> None:
    ProductSettings.from_json(value)


class Product(models.Model):
    """A VPN plan; its ``settings`` JSON follows :class:`ProductSettings` and nothing else."""

    name = models.CharField(max_length=200, unique=True)
    group = models.ForeignKey(ServerGroup, on_delete=models.PROTECT, related_name="products")
    settings = models.JSONField(default=dict, blank=True, validators=[validate_product_settings])
    license_key = EncryptedTextField(
        blank=True, help_text="PUQVPNCP module licence key; stored encrypted."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def typed_settings(self) -> ProductSettings:
        return ProductSettings.from_json(self.settings)

    def clean(self) -> None:
        try:
            self.settings = ProductSettings.from_json(self.settings).to_json()
        except ValidationError as exc:
            raise ValidationError({"settings": exc.messages}) from exc


class ServiceStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"
    FAILED = "failed", "Failed"


class ServiceAction(models.TextChoices):
    CREATE = "create", "Create"
    SUSPEND = "suspend", "Suspend"
    UNSUSPEND = "unsuspend", "Unsuspend"
    TERMINATE = "terminate", "Terminate"
    CHANGE_PACKAGE = "change_package", "Change package"


S = ServiceStatus
A = ServiceAction


@dataclass(frozen=True)
class Transition:
    """What one action does to a service's status.

    Requested in one of ``allowed_from``; while a worker carries it out the service is ``during``
    (if set); success leaves it ``to`` (``None``: unchanged), a failure the worker gives up on
    leaves it ``on_failure`` (``None``: unchanged, the action is parked for a retry).
    """

    allowed_from: frozenset[str]
    to: str | None
    during: str | None = None
    on_failure: str | None = None

    def edges(self) -> set[tuple[str, str]]:
        """The status changes this action may make, as (from, to) pairs."""
        if self.during is None:
            return {(status, self.to) for status in self.allowed_from if self.to}
        ends = {self.to, self.on_failure} - {None}
        return {(status, self.during) for status in self.allowed_from} | {
            (start, end)
            for start in {*self.allowed_from, self.during}
            for end in ends
            if end != start and (start == self.during or end == self.on_failure)
        }


# The one table of the lifecycle: which action may be asked for in which status, and what it does.
TRANSITIONS: dict[str, Transition] = {
    A.CREATE: Transition(
        frozenset({S.PENDING, S.FAILED}), to=S.ACTIVE, during=S.PROVISIONING, on_failure=S.FAILED
    ),
    A.SUSPEND: Transition(frozenset({S.ACTIVE}), to=S.SUSPENDED),
    A.UNSUSPEND: Transition(frozenset({S.SUSPENDED}), to=S.ACTIVE),
    A.TERMINATE: Transition(
        frozenset({S.PENDING, S.ACTIVE, S.SUSPENDED, S.FAILED}), to=S.TERMINATED
    ),
    A.CHANGE_PACKAGE: Transition(frozenset({S.ACTIVE, S.SUSPENDED}), to=None),
}
# Every status change the worker and the request side may make, derived from TRANSITIONS.
STATUS_CHANGES: frozenset[tuple[str, str]] = frozenset(
    edge for transition in TRANSITIONS.values() for edge in transition.edges()
)
# Statuses in which a client may exist on the panel under the service's remote name.
LIVE_STATUSES = frozenset({S.PROVISIONING, S.ACTIVE, S.SUSPENDED, S.FAILED})
# Statuses that take an account on a server, for its local cap.
CAPACITY_STATUSES = frozenset({S.PROVISIONING, S.ACTIVE, S.SUSPENDED})
# Statuses in which the service's client is on a panel, to be asked about (configs, sessions).
ON_PANEL_STATUSES = frozenset({S.ACTIVE, S.SUSPENDED})
# Statuses in which the service is still being set up: its page polls until it leaves them.
SETUP_STATUSES = frozenset({S.PENDING, S.PROVISIONING})
# The order actions are offered in (admin buttons, API).
ACTION_ORDER = (A.CREATE, A.SUSPEND, A.UNSUSPEND, A.CHANGE_PACKAGE, A.TERMINATE)


class Service(models.Model):
    """A customer's VPN account: the local truth, and the outbox of panel work still to do.

    ``pending_action`` is work that must reach the panel; while it is set and not parked
    (``action_failed_at``), the sweeper re-queues it once it is overdue (``action_due_at``).
    ``action_token`` is the lease of the worker currently doing it, renewed by every panel call;
    ``action_attempts`` counts the runs of this request and bounds its retries.
    """

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="services"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="services")
    server = models.ForeignKey(
        Server, on_delete=models.PROTECT, related_name="services", null=True, blank=True
    )
    network = models.CharField(max_length=64, blank=True)
    remote_name = models.CharField("client name on the panel", max_length=128, blank=True)
    status = models.CharField(
        max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.PENDING
    )
    pending_action = models.CharField(max_length=20, choices=ServiceAction.choices, blank=True)
    pending_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The product a queued change of package moves to, once the panel has it.",
    )
    action_requested_at = models.DateTimeField(null=True, blank=True)
    action_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the pending action should next run (backoff)."
    )
    action_token = models.UUIDField(null=True, blank=True, editable=False)
    action_started_at = models.DateTimeField(null=True, blank=True)
    action_attempts = models.PositiveIntegerField(default=0)
    action_failed_at = models.DateTimeField(null=True, blank=True)
    create_posted_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the create was last sent under remote_name: from then on a client of "
        "that name on the server is this service's (a lost response), never before.",
    )
    create_fingerprints = models.TextField(
        blank=True,
        editable=False,
        help_text="SHA-256 of the VPN password sent with each create POST of remote_name "
        "(space-separated): after a lost response, a client of that name with one of these "
        "passwords is this service's, any other is not.",
    )
    request_key = models.CharField(
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="The caller's key for the request that created this service (an order line, an "
        "admin's form): asking again with the same key returns this service.",
    )
    last_error = models.TextField(blank=True)
    needs_attention = models.BooleanField(default=False)
    attention_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(
                fields=("remote_name",),
                condition=~models.Q(remote_name=""),
                name="service_remote_name_unique",
            )
        ]
        indexes = [
            models.Index(fields=("pending_action", "action_due_at")),
            models.Index(fields=("status",)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.remote_name or self.product}"

    def can_transition_to(self, status: str) -> bool:
        return (self.status, status) in STATUS_CHANGES

    @property
    def action_parked(self) -> bool:
        """An action the worker gave up on, waiting for an admin's retry."""
        return bool(self.pending_action) and self.action_failed_at is not None

    @property
    def action_in_flight(self) -> bool:
        """An action queued or running: no other may be asked for until it is done or parked."""
        return bool(self.pending_action) and self.action_failed_at is None

    @property
    def is_on_panel(self) -> bool:
        """Whether the service has a client on a panel to ask about (active or suspended)."""
        return (
            self.status in ON_PANEL_STATUSES
            and self.server_id is not None
            and bool(self.remote_name)
        )

    @property
    def credentials_withheld(self) -> bool:
        """No password, configs or one-time links for the customer: only an active client has
        them (a suspended one is disabled on the panel; others have none)."""
        return not (self.is_on_panel and self.status == S.ACTIVE)

    @property
    def is_setting_up(self) -> bool:
        return self.status in SETUP_STATUSES

    def reached(self, action: str, product_id: int | None = None) -> bool:
        """Whether the end state of ``action`` (to ``product_id``) holds now."""
        if action == A.CHANGE_PACKAGE:
            return product_id == self.product_id
        return TRANSITIONS[action].to == self.status

    def is_done(self, action: str, product_id: int | None = None) -> bool:
        """Whether ``action`` has nothing left to do: its end state holds and nothing is queued."""
        return not self.pending_action and self.reached(action, product_id)

    def is_pending(self, action: str, product_id: int | None = None) -> bool:
        """Whether ``action`` (to ``product_id``, for a change of package) is queued or parked."""
        if self.pending_action != action:
            return False
        return action != A.CHANGE_PACKAGE or self.pending_product_id == product_id

    def may_request(self, action: str) -> bool:
        """Whether ``action`` may be asked for now: the state allows it and nothing is in flight."""
        return self.status in TRANSITIONS[action].allowed_from and not self.action_in_flight

    def allowed_actions(self) -> list[str]:
        """The actions that may be asked for now, a parked one excepted (it is retried instead)."""
        return [
            action
            for action in ACTION_ORDER
            if self.may_request(action)
            and not (self.action_parked and self.pending_action == action)
        ]

    @property
    def can_retry(self) -> bool:
        """A parked action, or the create of a failed service, can be queued again."""
        return self.action_parked or (self.status == S.FAILED and not self.pending_action)


class ServiceEvent(models.Model):
    """Audit trail: one row per state change of a service, written in the same transaction."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"


class CallOutcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"


class ModuleLogEntry(models.Model):
    """One panel call, redacted: what an admin needs to see why provisioning did what it did."""

    server = models.ForeignKey(
        Server, on_delete=models.SET_NULL, null=True, blank=True, related_name="log_entries"
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="log_entries"
    )
    action = models.CharField(max_length=50)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    outcome = models.CharField(max_length=10, choices=CallOutcome.choices)
    error = models.TextField(blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    correlation_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "module log entry"
        verbose_name_plural = "module log"

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.http_status or self.outcome}"


# A gigabyte is 10**9 bytes (decimal GB), as panels and WHMCS usage billing report it; never 2**30.
BYTES_PER_GB = 10**9


class UsageSnapshot(models.Model):
    """A service's traffic in one calendar month as last pulled from its panel (bytes)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="usage")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    download_bytes = models.BigIntegerField(default=0)
    upload_bytes = models.BigIntegerField(default=0)
    pulled_at = models.DateTimeField()

    class Meta:
        ordering = ("-year", "-month")
        constraints = [
            models.UniqueConstraint(fields=("service", "year", "month"), name="usage_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.year}-{self.month:02d}"


class UsageAlert(models.Model):
    """The customer's "email me when this month's traffic passes N GB" on one service.

    ``alerted_for`` names the last (month, threshold) it was sent for, so it goes out once per
    threshold per month; setting another threshold arms it again for this month.
    """

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="usage_alert")
    threshold_gb = models.PositiveIntegerField(
        help_text="Download and upload together, in GB (10^9 bytes)."
    )
    alerted_for = models.CharField(max_length=40, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Service #{self.service_id}: {self.threshold_gb} GB a month"


class FindingKind(models.TextChoices):
    ORPHAN = "orphan", "Orphan (client without a live service)"
    GHOST = "ghost", "Ghost (service without a client)"
    DRIFT = "drift", "Status drift"


class ReconciliationFinding(models.Model):
    """A difference between a panel and the services, found by reconciliation."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="findings")
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="findings"
    )
    kind = models.CharField(max_length=10, choices=FindingKind.choices)
    remote_name = models.CharField(max_length=128)
    detail = models.TextField(blank=True)
    fix_applied = models.CharField(max_length=100, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_seen_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("server", "kind", "remote_name"),
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_finding_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.remote_name}"
