"""The demo's licence issuer, so that ``make run`` runs the whole licence loop locally.

The first seed makes the issuer's private key in ``var/licensing/demo-issuer.pem`` (owner only,
git-ignored like every demo secret; never a key in the repository) and keeps its public key in
``var/demo.json``. Each demo product gets a key this issuer signed; ``rundemo`` makes the demo
trust the issuer (``LICENSING_PUBLIC_KEYS``) and be its own licence server (``/licensing/verify/``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from licensing.tokens import (
    LicenceClaims,
    LicenceInvalid,
    keypair_generate,
    licence_sign,
    licence_verify,
    private_key_from_pem,
)
from portal.core import clock

LICENSEE = "Demo VPN Shop"
VALID_DAYS = 365
RECHECK_SECONDS = 3600
#: A key that expires sooner than this is issued again by the next seed.
RENEW_BEFORE = timedelta(days=30)


def demo_issuer_path() -> Path:
    return Path(settings.VAR_DIR) / "licensing" / "demo-issuer.pem"


def demo_issuer() -> Ed25519PrivateKey:
    """The demo issuer's private key, made (owner-only) on first use."""
    path = demo_issuer_path()
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_pem, _ = keypair_generate()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(private_pem)
    return private_key_from_pem(path.read_text())


def demo_key_holds(key: str, issuer: Ed25519PrivateKey, product_id: int) -> bool:
    """Whether ``key`` is the issuer's, covers the product and has more than a month left."""
    try:
        claims = licence_verify(key, [issuer.public_key()], now=clock.now() + RENEW_BEFORE)
    except LicenceInvalid:
        return False
    return claims.covers(product_id)


def demo_licence_key(issuer: Ed25519PrivateKey, product_id: int) -> str:
    now = clock.now().replace(microsecond=0)
    claims = LicenceClaims(
        licensee=LICENSEE,
        products=(str(product_id),),
        issued_at=now,
        expires_at=now + timedelta(days=VALID_DAYS),
        recheck_seconds=RECHECK_SECONDS,
    )
    return licence_sign(claims, issuer)
