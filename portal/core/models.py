"""The provider's branding: set in the admin, used by every customer page, email and invoice."""

from __future__ import annotations

import re
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.cache import cache
from django.core.validators import RegexValidator
from django.db import models

CACHE_KEY = "core:branding"
CACHE_SECONDS = 60
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_COLOUR = "#1f5f99"


class Branding(models.Model):
    """One row (pk 1): who the shop is. Invoices snapshot the seller's details when paid."""

    shop_name = models.CharField(max_length=100, default="VPN Portal")
    logo = models.ImageField(upload_to="branding/", blank=True)
    primary_colour = models.CharField(
        max_length=7,
        default=DEFAULT_COLOUR,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour as #rrggbb.")],
    )
    legal_name = models.CharField("seller's legal name", max_length=200, blank=True)
    address = models.TextField("seller's address", blank=True)
    country = models.CharField(
        "seller's country", max_length=2, blank=True, help_text="ISO 3166 code, e.g. DE."
    )
    vat_id = models.CharField("seller's VAT id", max_length=32, blank=True)
    support_email = models.EmailField(blank=True)
    terms_url = models.URLField("terms of service URL", blank=True)
    privacy_url = models.URLField("privacy policy URL", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "branding"

    def __str__(self) -> str:
        return self.shop_name

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(CACHE_KEY)

    @property
    def email_sender(self) -> str:
        """Every email's From: ``DEFAULT_FROM_EMAIL``, shown as the shop's name unless it names
        itself."""
        name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        return settings.DEFAULT_FROM_EMAIL if name else formataddr((self.shop_name, address))

    @property
    def email_reply_to(self) -> list[str]:
        """Every email's Reply-To: the support email, when there is one."""
        return [self.support_email] if self.support_email else []

    @property
    def email_colour(self) -> str:
        """The colour for emails' inline styles, only ever ``#rrggbb`` (it goes into CSS)."""
        return self.primary_colour if COLOUR.fullmatch(self.primary_colour) else DEFAULT_COLOUR

    @classmethod
    def current(cls) -> Branding:
        """The branding, from the cache for a minute (every page and email asks)."""
        branding = cache.get(CACHE_KEY)
        if branding is None:
            branding, _ = cls.objects.get_or_create(pk=1)
            cache.set(CACHE_KEY, branding, CACHE_SECONDS)
        return branding
