from django.conf import settings
from django.db import models


class Customer(models.Model):
    """A customer of the hosting provider; billing extends it (address, currency, credit)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customer"
    )
    company_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full_name = self.user.get_full_name()
        return self.company_name or full_name or self.user.get_username()


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
