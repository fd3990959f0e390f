"""An issuer for the licence tests: its key pair, the portal's settings trusting it, and keys it
signs (valid by default; pass changes for expired or narrower ones)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from licensing.tokens import LicenceClaims, licence_sign, public_key_pem

SERVER_URL = "https://licences.example.com/licensing/verify/"


@pytest.fixture(scope="session")
def issuer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def licensing(settings, issuer, private_cache):
    """The portal trusts ``issuer`` and asks SERVER_URL; results go to a private cache."""
    settings.LICENSING_SERVER_URL = SERVER_URL
    settings.LICENSING_PUBLIC_KEYS = public_key_pem(issuer.public_key())
    settings.LICENSING_GRACE_DAYS = 14
    settings.LICENSING_TIMEOUT_SECONDS = 2
    settings.LICENSING_REVOKED = []
    return settings


@pytest.fixture
def sign(issuer) -> Callable[..., str]:
    def sign(**changes) -> str:
        now = timezone.now().replace(microsecond=0)
        fields = {
            "licensee": "Acme Hosting",
            "products": ("7",),
            "issued_at": now - timedelta(days=1),
            "expires_at": now + timedelta(days=30),
            "recheck_seconds": 3600,
        }
        return licence_sign(LicenceClaims(**{**fields, **changes}), issuer)

    return sign


def tampered(key: str) -> str:
    """``key`` with one character of its signature changed (A and Q differ in the top bits)."""
    index = len(key) - 10
    return key[:index] + ("Q" if key[index] == "A" else "A") + key[index + 1 :]
