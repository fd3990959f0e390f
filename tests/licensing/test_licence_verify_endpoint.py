"""The licence server's endpoint, end to end through Django: a key this issuer signed is valid
(with what it grants); tampered, expired (no grace here), revoked, foreign-product or malformed
requests are refused with a reason; GET is 405; no CSRF token is needed (a machine API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licensing.tokens import licence_fingerprint
from tests.licensing.conftest import tampered

pytestmark = pytest.mark.usefixtures("licensing")

URL = "/licensing/verify/"


def post(body, **extra):
    client = Client(enforce_csrf_checks=True)
    return client.post(URL, body, content_type="application/json", **extra)


def test_the_route():
    assert reverse("licence_verify") == URL


def test_a_key_the_issuer_signed_is_valid_with_what_it_grants(sign):
    expires = timezone.now().replace(microsecond=0) + timedelta(days=30)

    response = post({"key": sign(expires_at=expires), "product": 7})

    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "licensee": "Acme Hosting",
        "products": ["7"],
        "expires_at": expires.isoformat(),
        "recheck_seconds": 3600,
    }
    assert post({"key": sign(products=("*",))}).json()["valid"] is True


@pytest.mark.parametrize(
    ("make_key", "reason"),
    [
        (lambda sign: tampered(sign()), "signature does not match"),
        (lambda sign: sign(expires_at=timezone.now() - timedelta(hours=1)), "expired on"),
        (lambda sign: "not-a-key", "This is not a licence key"),
    ],
    ids=["tampered", "expired (no grace)", "not a key"],
)
def test_a_key_that_does_not_hold_is_invalid_with_the_reason(sign, make_key, reason):
    response = post({"key": make_key(sign), "product": 7})

    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert reason in response.json()["reason"]


def test_a_key_for_other_products_is_invalid_for_this_one(sign):
    body = post({"key": sign(products=("8",)), "product": 7}).json()

    assert body == {"valid": False, "reason": "The licence does not cover this product (id 7)."}


@pytest.mark.parametrize("by", ["licensee", "fingerprint"])
def test_a_revoked_key_is_invalid(licensing, sign, by):
    key = sign()
    licensing.LICENSING_REVOKED = ["Acme Hosting" if by == "licensee" else licence_fingerprint(key)]

    assert post({"key": key}).json() == {
        "valid": False,
        "reason": "The licence was revoked by its issuer.",
    }
    assert post({"key": sign(licensee="Other Hosting")}).json()["valid"] is True


@pytest.mark.parametrize(
    "body",
    ["{not json", "[]", '{"key": 5}', '{"product": 7}', '{"key": "VPNL1.x.y", "product": [7]}'],
)
def test_a_malformed_body_is_400_with_a_reason(body):
    response = post(body)

    assert response.status_code == 400
    assert response.json()["valid"] is False
    assert response.json()["reason"]


def test_only_json_is_accepted(sign):
    response = Client().post(URL, {"key": sign()})

    assert response.status_code == 415
    assert response.json()["valid"] is False


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_method_is_405_with_the_same_json_shape(method):
    response = getattr(Client(), method)(URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"valid": False, "reason": "POST the key as JSON."}


def test_without_issuer_keys_the_server_says_it_cannot_answer(licensing, sign):
    licensing.LICENSING_PUBLIC_KEYS = ""

    response = post({"key": sign()})

    assert response.status_code == 503
    assert response.json()["valid"] is False
