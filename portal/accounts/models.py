from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from portal.accounts.countries import COUNTRIES
from portal.accounts.vat import VAT_ID_MAX_LENGTH, vat_id_clean

#: The billing details an invoice shows, in order; ``Customer.billing_address()`` returns them.
BILLING_FIELDS = (
    "billing_name",
    "company_name",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "vat_id",
)


class Customer(models.Model):
    """A customer of the hosting provider, with the billing details their invoices show.

    Billing reads the plain fields below and copies ``billing_address()`` onto an invoice when
    its payment starts.
    ``tax_exempt`` is set by staff only.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customer"
    )
    billing_name = models.CharField("name", max_length=200, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, choices=COUNTRIES)
    vat_id = models.CharField(
        "VAT or tax id",
        max_length=VAT_ID_MAX_LENGTH,
        blank=True,
        help_text="In the EU, your VAT id with its country prefix (e.g. DE123456789).",
    )
    tax_exempt = models.BooleanField(
        default=False, help_text="Invoices of this customer carry no tax (set by staff)."
    )
    signed_up = models.BooleanField(
        "signed up on the site",
        default=False,
        editable=False,
        help_text="Made by the customer's own sign-up: signing in waits until the email "
        "address is confirmed. Customers made by staff are not held.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full_name = self.user.get_full_name()
        return self.company_name or full_name or self.user.get_username()

    def clean(self) -> None:
        try:
            self.vat_id = vat_id_clean(country=self.country, vat_id=self.vat_id)
        except ValidationError as exc:
            raise ValidationError({"vat_id": exc.messages}) from None

    def billing_address(self) -> dict[str, str | bool]:
        """The billing details as they stand now, for an invoice to keep: every field of
        ``BILLING_FIELDS`` (empty strings where unset), ``billing_name`` falling back to the
        display name, the country's name, the account's email and ``tax_exempt``."""
        snapshot: dict[str, str | bool] = {name: getattr(self, name) for name in BILLING_FIELDS}
        snapshot["billing_name"] = self.billing_name or self.display_name
        snapshot["country_name"] = self.get_country_display() if self.country else ""
        snapshot["email"] = self.user.email
        snapshot["tax_exempt"] = self.tax_exempt
        return snapshot


class KnownSignInAddress(models.Model):
    """An address a user signed in from: spared the per-name sign-in ceiling (``throttle``).

    Kept in the database, not the cache: every attempt from a new address adds cache entries, so
    an attacker guessing from many addresses would make a bounded cache (the embedded mode's file
    cache, Redis under ``maxmemory``) evict the mark and lock the user out where they sign in.
    Name and address are keyed hashes, like the throttle's cache keys.
    """

    name_key = models.CharField(max_length=32)
    address_key = models.CharField(max_length=32)
    last_signed_in = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("name_key", "address_key"), name="accounts_known_sign_in_address_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name_key[:8]}… at {self.address_key[:8]}…"


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now: datetime) -> ApiTokenQuerySet:
        """Neither revoked nor expired at ``now``."""
        return self.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)


class ApiToken(models.Model):
    """A user's key to the REST API (docs/api.md), sent as ``Authorization: Bearer <token>``.

    Only the SHA-256 of the token is kept: the token is 256 random bits, so a fast hash is
    enough (a password hash guards guessable secrets, and would cost every request). The token
    is shown once, when made; ``prefix``, its first characters, lets its owner recognise it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, to recognise it.")
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("expires", null=True, blank=True)
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
