"""A product's licence check: the licence server's verdict when it gives one, kept for the
period it names (no second call inside it); offline verification when it cannot be reached,
answers 5xx or answers nonsense, kept briefly so the server is asked again soon."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from licensing.checks import (
    MAX_RECHECK_SECONDS,
    MIN_RECHECK_SECONDS,
    NO_KEY,
    OFFLINE_NOTE,
    OFFLINE_VALID_SECONDS,
    licence_check,
    licence_check_due,
    licence_problem,
)
from licensing.status import RECHECKING, licence_status_row
from tests.licensing.conftest import SERVER_URL, tampered

pytestmark = pytest.mark.usefixtures("licensing")

VALID = {"valid": True, "licensee": "Acme Hosting", "products": ["7"], "recheck_seconds": 3600}


def kept_for(check) -> int:
    """Check, and return the seconds its result holds for."""
    result = check()
    return round((result.valid_until - result.checked_at).total_seconds())


@responses.activate
def test_a_valid_answer_is_success_and_kept_for_the_servers_recheck_period(sign):
    responses.post(SERVER_URL, json=VALID)
    key = sign()

    result = licence_check(product_id=7, key=key)

    assert result.ok
    assert licence_status_row(7, key).startswith("success: ")
    sent = responses.calls[0].request
    assert json.loads(sent.body) == {"key": key, "product": 7}
    assert sent.headers["Content-Type"] == "application/json"
    assert kept_for(lambda: licence_check(product_id=7, key=key)) == 3600


@pytest.fixture
def clock_driven_cache(settings):
    """A cache whose expiry follows the moved clock (Redis keeps its own time)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"licensing-{uuid.uuid4().hex}",
        }
    }


@responses.activate
@pytest.mark.usefixtures("clock_driven_cache")
def test_no_second_server_call_while_the_result_holds_then_one(sign):
    server = responses.post(SERVER_URL, json={**VALID, "recheck_seconds": 600})
    key = sign()

    def background_check() -> None:
        if licence_check_due(7, key):
            licence_check(product_id=7, key=key)

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        background_check()
        traveller.shift(timedelta(seconds=599))
        background_check()
        assert server.call_count == 1
        assert not licence_check_due(7, key)

        traveller.shift(timedelta(seconds=2))
        assert licence_check_due(7, key)
        background_check()
    assert server.call_count == 2


@responses.activate
@pytest.mark.usefixtures("clock_driven_cache")
def test_a_refusal_stays_in_force_past_its_period_until_the_next_check_replaces_it(sign):
    """Between the result's expiry and the next background round a page still refuses: it does
    not fall back to the offline verification, which passes a key the server revoked."""
    responses.post(
        SERVER_URL,
        json={"valid": False, "reason": "The licence was revoked.", "recheck_seconds": 600},
    )
    key = sign()

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        licence_check(product_id=7, key=key)
        traveller.shift(timedelta(seconds=601))

        assert licence_check_due(7, key)
        assert licence_problem(product_id=7, key=key) == "The licence was revoked."
        assert licence_status_row(7, key) == f"The licence was revoked. {RECHECKING}"

        responses.replace(responses.POST, SERVER_URL, json=VALID)
        licence_check(product_id=7, key=key)
        assert licence_problem(product_id=7, key=key) == ""
        assert licence_status_row(7, key).startswith("success: ")
        assert RECHECKING not in licence_status_row(7, key)


@responses.activate
def test_a_refusal_is_the_servers_reason(sign):
    responses.post(SERVER_URL, json={"valid": False, "reason": "The licence was revoked."})

    key = sign()
    result = licence_check(product_id=7, key=key)

    assert result.error == "The licence was revoked."
    assert licence_status_row(7, key) == "The licence was revoked."
    assert not licence_check_due(7, key)


@responses.activate
@pytest.mark.parametrize(
    ("asked", "kept"),
    [(1, MIN_RECHECK_SECONDS), (10**9, MAX_RECHECK_SECONDS), ("soon", 86_400), (None, 86_400)],
)
def test_the_recheck_period_is_bounded(sign, asked, kept):
    responses.post(SERVER_URL, json={**VALID, "recheck_seconds": asked})

    assert kept_for(lambda: licence_check(product_id=7, key=sign())) == kept


@responses.activate
def test_a_valid_answer_for_other_products_is_an_error(sign):
    responses.post(SERVER_URL, json={**VALID, "products": ["8"]})

    assert "does not cover this product (id 7)" in licence_check(product_id=7, key=sign()).error


SERVER_DOWN = {
    "unreachable": {"body": requests.ConnectionError("connection refused")},
    "timeout": {"body": requests.Timeout("read timed out")},
    "5xx": {"status": 503, "json": {"valid": False, "reason": "maintenance"}},
    "not JSON": {"body": "<html>Welcome to nginx</html>"},
    "no verdict": {"json": {"ok": True}},
    "verdict not a boolean": {"json": {"valid": "yes"}},
    "redirect": {"status": 302, "headers": {"Location": "https://elsewhere.example/"}},
    **{
        f"recheck {number}": {
            "body": f'{{"valid": true, "products": ["*"], "recheck_seconds": {number}}}',
            "content_type": "application/json",
        }
        for number in ("NaN", "Infinity", "-Infinity")
    },
}


@responses.activate
@pytest.mark.parametrize("answer", sorted(SERVER_DOWN))
def test_without_a_verdict_the_key_is_verified_offline_and_kept_briefly(sign, answer):
    responses.post(SERVER_URL, **SERVER_DOWN[answer])

    key = sign()
    good = kept_for(lambda: licence_check(product_id=7, key=key))
    assert good == OFFLINE_VALID_SECONDS
    assert licence_status_row(7, key).startswith("success: ")

    bad = licence_check(product_id=7, key=tampered(sign()))
    assert "signature does not match" in bad.error
    assert bad.error.endswith(OFFLINE_NOTE)


@responses.activate
def test_offline_an_expired_key_holds_through_the_grace_period_then_not(sign):
    responses.post(SERVER_URL, body=requests.ConnectionError("down"))
    now = timezone.now()

    within = licence_check(product_id=7, key=sign(expires_at=now - timedelta(days=13)))
    past = licence_check(product_id=7, key=sign(expires_at=now - timedelta(days=15)))

    assert within.ok
    assert "The licence expired on" in past.error
    assert past.error.endswith(OFFLINE_NOTE)


@responses.activate
def test_offline_a_key_for_other_products_is_an_error(sign):
    responses.post(SERVER_URL, status=500)

    result = licence_check(product_id=7, key=sign(products=("8", "9")))

    assert result.error == f"The licence does not cover this product (id 7). {OFFLINE_NOTE}"
    assert licence_check(product_id=8, key=sign(products=("*",))).ok


@responses.activate
def test_without_a_server_url_the_check_is_offline_and_says_nothing_of_a_server(licensing, sign):
    licensing.LICENSING_SERVER_URL = ""

    assert licence_check(product_id=7, key=sign()).ok
    error = licence_check(product_id=7, key=tampered(sign())).error
    assert "signature does not match" in error
    assert OFFLINE_NOTE not in error
    assert len(responses.calls) == 0


@responses.activate
def test_offline_without_public_keys_says_so(licensing, sign):
    licensing.LICENSING_PUBLIC_KEYS = ""
    responses.post(SERVER_URL, status=502)

    assert "No licence public key is configured" in licence_check(product_id=7, key=sign()).error


@responses.activate
@pytest.mark.parametrize("key", ["", "   "])
def test_no_key_is_an_error_without_asking_anyone(key):
    result = licence_check(product_id=7, key=key)

    assert result.error == NO_KEY
    assert licence_status_row(7, key) == NO_KEY
    assert len(responses.calls) == 0
