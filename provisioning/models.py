from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from portal.core.fields import EncryptedTextField
from provisioning.product_settings import ProductSettings


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
        max_length=253, blank=True, help_text="The panel's host name, e.g. vpn-fra.example.com."
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
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROVISIONING, S.FAILED, S.TERMINATED}),
    S.PROVISIONING: frozenset({S.ACTIVE, S.FAILED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.TERMINATED}),
    S.FAILED: frozenset({S.PROVISIONING, S.TERMINATED}),
    S.TERMINATED: frozenset(),
}
# Statuses in which a client may exist on the panel under the service's remote name.
LIVE_STATUSES = frozenset({S.PROVISIONING, S.ACTIVE, S.SUSPENDED, S.FAILED})
# Statuses that take an account on a server, for its local cap.
CAPACITY_STATUSES = frozenset({S.PROVISIONING, S.ACTIVE, S.SUSPENDED})


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
        return status in ALLOWED_TRANSITIONS[self.status]

    @property
    def action_parked(self) -> bool:
        return bool(self.pending_action) and self.action_failed_at is not None


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
