"""Licence keys: a signed token, verified offline with the issuer's public key.

A key is ``VPNL1.<payload>.<signature>``: the payload is the licence's claims as compact JSON
(base64url, no padding), the signature an Ed25519 signature of the payload's bytes (base64url).
Offline verification checks the format, the signature against each trusted public key, and the
dates: a licence past its expiry still verifies for ``grace`` (the time a provider has to renew
while its licence server cannot be reached), then not. Nothing here uses Django or the network;
the online check and its cache build on it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "VPNL1"
ALL_PRODUCTS = "*"


class LicenceInvalid(Exception):
    """The key cannot be trusted, or no longer holds; ``str()`` says why, for the admin."""


@dataclass(frozen=True)
class LicenceClaims:
    """What a licence grants: to whom, for which products (their ids, or ``*``), from when to
    when, how long an online answer may be kept (``recheck_seconds``), and any limits."""

    licensee: str
    products: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    recheck_seconds: int = 86_400
    limits: Mapping[str, int] = field(default_factory=dict)

    def covers(self, product_id: int | str) -> bool:
        return ALL_PRODUCTS in self.products or str(product_id) in self.products

    def to_json(self) -> bytes:
        data = asdict(self)
        data["products"] = list(self.products)
        data["limits"] = dict(self.limits)
        data["issued_at"] = _timestamp(self.issued_at)
        data["expires_at"] = _timestamp(self.expires_at)
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> LicenceClaims:
        try:
            data = json.loads(raw)
            return cls(
                licensee=str(data["licensee"]),
                products=tuple(str(product) for product in data["products"]),
                issued_at=_moment(data["issued_at"]),
                expires_at=_moment(data["expires_at"]),
                recheck_seconds=int(data.get("recheck_seconds", 86_400)),
                limits={str(k): int(v) for k, v in dict(data.get("limits", {})).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LicenceInvalid("The licence key's contents are not readable.") from exc


def licence_sign(claims: LicenceClaims, private_key: Ed25519PrivateKey) -> str:
    """The licence key of ``claims``, signed with the issuer's ``private_key``."""
    payload = claims.to_json()
    return ".".join((PREFIX, _b64(payload), _b64(private_key.sign(payload))))


def licence_verify(
    key: str,
    public_keys: Iterable[Ed25519PublicKey],
    *,
    now: datetime,
    grace: timedelta = timedelta(0),
) -> LicenceClaims:
    """The claims of ``key`` when one of ``public_keys`` signed it and it holds at ``now``
    (expired less than ``grace`` ago still holds); else :class:`LicenceInvalid` saying why."""
    parts = key.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise LicenceInvalid("This is not a licence key (it should start with VPNL1.).")
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
    except ValueError as exc:
        raise LicenceInvalid("The licence key is damaged (not base64url).") from exc
    if not any(_signed_by(public_key, payload, signature) for public_key in public_keys):
        raise LicenceInvalid(
            "The licence key's signature does not match: it was altered or not issued by us."
        )
    claims = LicenceClaims.from_json(payload)
    if now < claims.issued_at - timedelta(minutes=5):
        raise LicenceInvalid(f"The licence is not valid before {_timestamp(claims.issued_at)}.")
    if now >= claims.expires_at + grace:
        raise LicenceInvalid(f"The licence expired on {_timestamp(claims.expires_at)}.")
    return claims


def keypair_generate() -> tuple[str, str]:
    """A new issuer key pair as PEM text: (private, public)."""
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, public_key_pem(private_key.public_key())


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def private_key_from_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("An issuer's key is an Ed25519 private key.")
    return key


def public_key_from_pem(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("A licence public key is an Ed25519 public key.")
    return key


def public_keys_from_pem(text: str) -> list[Ed25519PublicKey]:
    """Every public key in ``text`` (PEM blocks one after another, as a setting holds them);
    ValueError when a block is not an Ed25519 public key or text that is not blank has none."""
    blocks = _PEM_BLOCK.findall(text)
    if text.strip() and not blocks:
        raise ValueError("no PEM block (-----BEGIN PUBLIC KEY----- ...) found")
    return [public_key_from_pem(block) for block in blocks]


def licence_fingerprint(key: str) -> str:
    """The sha256 (hex) of a verified key's signed payload: names one issued key, to revoke it."""
    return hashlib.sha256(_unb64(key.strip().split(".")[1])).hexdigest()


_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.DOTALL)


def _signed_by(public_key: Ed25519PublicKey, payload: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not set(text) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    ):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> datetime:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return moment.replace(tzinfo=UTC)
