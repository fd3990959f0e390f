"""Licence keys verified offline: a key the issuer signed holds until it expires (and through
the grace period), and any change to it — its claims, its signature, another issuer — or a key
that is not one, is refused with a reason the admin can act on."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from licensing.tokens import (
    LicenceClaims,
    LicenceInvalid,
    keypair_generate,
    licence_sign,
    licence_verify,
    private_key_from_pem,
    public_key_from_pem,
)

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
ISSUER = Ed25519PrivateKey.generate()
TRUSTED = [ISSUER.public_key()]


def claims(**changes) -> LicenceClaims:
    fields = {
        "licensee": "Acme Hosting GmbH",
        "products": ("7", "9"),
        "issued_at": datetime(2027, 1, 1, tzinfo=UTC),
        "expires_at": datetime(2028, 1, 1, tzinfo=UTC),
        "recheck_seconds": 3600,
        "limits": {"services": 500},
    }
    return LicenceClaims(**{**fields, **changes})


def test_a_key_the_issuer_signed_verifies_to_its_claims():
    key = licence_sign(claims(), ISSUER)

    verified = licence_verify(key, TRUSTED, now=NOW)

    assert key.startswith("VPNL1.")
    assert verified == claims()
    assert verified.covers(7)
    assert verified.covers("9")
    assert not verified.covers(8)
    assert claims(products=("*",)).covers(123)


def test_a_key_from_another_issuer_is_refused_and_a_second_trusted_key_is_accepted():
    other = Ed25519PrivateKey.generate()
    key = licence_sign(claims(), other)

    with pytest.raises(LicenceInvalid, match="signature does not match"):
        licence_verify(key, TRUSTED, now=NOW)
    assert licence_verify(key, [*TRUSTED, other.public_key()], now=NOW) == claims()


def test_changed_claims_are_refused():
    prefix, payload, signature = licence_sign(claims(), ISSUER).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["expires_at"] = "2099-01-01T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    with pytest.raises(LicenceInvalid, match="altered or not issued by us"):
        licence_verify(f"{prefix}.{forged}.{signature}", TRUSTED, now=NOW)


# A, Q, g and w differ in base64's top two bits, so swapping one for another changes the bytes
# even in a last character whose low bits are padding (which decoders ignore).
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw"))
def test_any_character_changed_in_the_signature_or_payload_is_refused(position, replacement):
    key = licence_sign(claims(), ISSUER)
    body_start = len("VPNL1.")
    index = body_start + position % (len(key) - body_start)
    if key[index] in (".", replacement):
        return
    tampered = key[:index] + replacement + key[index + 1 :]

    with pytest.raises(LicenceInvalid):
        licence_verify(tampered, TRUSTED, now=NOW)


def test_an_expired_key_holds_through_the_grace_period_then_not():
    key = licence_sign(claims(expires_at=NOW - timedelta(days=2)), ISSUER)

    with pytest.raises(LicenceInvalid, match="expired on 2027-02-27T12:00:00Z"):
        licence_verify(key, TRUSTED, now=NOW)
    assert licence_verify(key, TRUSTED, now=NOW, grace=timedelta(days=3)).licensee
    with pytest.raises(LicenceInvalid, match="expired"):
        licence_verify(key, TRUSTED, now=NOW, grace=timedelta(days=2))


def test_a_key_issued_in_the_future_is_refused():
    key = licence_sign(claims(issued_at=NOW + timedelta(hours=1)), ISSUER)

    with pytest.raises(LicenceInvalid, match="not valid before"):
        licence_verify(key, TRUSTED, now=NOW)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "not a licence key"),
        ("hello", "not a licence key"),
        ("VPNL2.abc.def", "not a licence key"),
        ("VPNL1.abc", "not a licence key"),
        ("VPNL1.a+b.c/d", "damaged"),
        ("VPNL1.e30.e30", "signature does not match"),
    ],
)
def test_what_is_not_a_key_is_refused_with_a_reason(key, reason):
    with pytest.raises(LicenceInvalid, match=reason):
        licence_verify(key, TRUSTED, now=NOW)


def test_signed_claims_that_cannot_be_read_are_refused():
    payload = b'{"licensee": "x"}'
    prefix = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(ISSUER.sign(payload)).rstrip(b"=").decode()

    with pytest.raises(LicenceInvalid, match="not readable"):
        licence_verify(f"VPNL1.{prefix}.{signature}", TRUSTED, now=NOW)


def test_a_generated_key_pair_round_trips_through_pem():
    private_pem, public_pem = keypair_generate()
    key = licence_sign(claims(), private_key_from_pem(private_pem))

    assert "BEGIN PRIVATE KEY" in private_pem
    assert "BEGIN PUBLIC KEY" in public_pem
    assert licence_verify(key, [public_key_from_pem(public_pem)], now=NOW) == claims()
