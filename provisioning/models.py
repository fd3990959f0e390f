from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from portal.core.fields import EncryptedTextField


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
