"""Checking a product's licence key: online against the licence server first, offline when it
cannot answer.

The server's answer is kept for the period it names (bounded), so a background check asks it
again only when :func:`licence_check_due` says the last result ran out. When the server cannot
be reached, answers 5xx or answers something that is not a verdict, the key is verified offline
(signature, dates with ``LICENSING_GRACE_DAYS`` of grace, product scope) and that result is kept
briefly, so the server is asked again soon. Pages read the recorded result (licensing.status)
and never wait on this.
"""

from __future__ import annotations

import functools
import logging
import math
from datetime import timedelta

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from licensing.status import LicenceCheck, last_licence_check, record_licence_check
from licensing.tokens import LicenceInvalid, licence_verify, public_keys_from_pem
from portal.core import clock

logger = logging.getLogger(__name__)

NO_KEY = "No licence key is set."
OFFLINE_NOTE = "(checked offline: the licence server could not be reached)"
#: How long an offline result (or a missing key) holds: online is tried again after it.
OFFLINE_VALID_SECONDS = 15 * 60
#: The bounds of the recheck period a server may ask for.
MIN_RECHECK_SECONDS = 60
MAX_RECHECK_SECONDS = 7 * 86_400


def licence_check_due(product_id: int, key: str) -> bool:
    """True when no recorded result of ``key`` still holds: the background check skips the
    others."""
    check = last_licence_check(product_id, key)
    return check is None or check.stale


def licence_problem(*, product_id: int, key: str) -> str:
    """Why ``key`` fails for the product now, "" when it does not; for a page, which never waits
    on the licence server: the last recorded result, even past its period (a server's refusal
    stays in force until a new check replaces it), or with none the offline verification (local
    and fast), which is not recorded, so the background check still asks the server first."""
    check = last_licence_check(product_id, key)
    if check is not None:
        return check.error
    if not key.strip():
        return NO_KEY
    return _offline_error(product_id, key)


def licence_check_current(*, product_id: int, key: str) -> LicenceCheck:
    """The recorded result, or a check now (which may ask the server) when none holds: for
    background work that must not act on a guess."""
    check = last_licence_check(product_id, key)
    if check is None or check.stale:
        return licence_check(product_id=product_id, key=key)
    return check


def licence_check(*, product_id: int, key: str) -> LicenceCheck:
    """Check ``key`` for product ``product_id`` and record the result (see the module's doc)."""
    if not key.strip():
        return record_licence_check(
            product_id, key=key, error=NO_KEY, valid_for=OFFLINE_VALID_SECONDS
        )
    if not settings.LICENSING_SERVER_URL:
        return _offline(product_id, key, note="")
    answer = _ask_server(product_id, key)
    if answer is None:
        return _offline(product_id, key, note=OFFLINE_NOTE)
    error, valid_for = answer
    return record_licence_check(product_id, key=key, error=error, valid_for=valid_for)


def _ask_server(product_id: int, key: str) -> tuple[str, int] | None:
    """The server's verdict as (error, seconds it holds), or None when there is none to use."""
    try:
        response = requests.post(
            settings.LICENSING_SERVER_URL,
            json={"key": key.strip(), "product": product_id},
            timeout=settings.LICENSING_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        data = response.json() if response.status_code < 500 else None
    except (requests.RequestException, ValueError) as exc:
        logger.warning("Licence server unreachable for product %s: %s", product_id, exc)
        return None
    if not _is_verdict(data):
        logger.warning(
            "Licence server gave no verdict for product %s (HTTP %s)",
            product_id,
            response.status_code,
        )
        return None
    return _verdict(product_id, data)


def _is_verdict(data: object) -> bool:
    """A JSON object with a boolean ``valid`` and, if any, a finite ``recheck_seconds``
    (``response.json`` reads NaN and Infinity, which no period can be made of)."""
    if not isinstance(data, dict) or not isinstance(data.get("valid"), bool):
        return False
    seconds = data.get("recheck_seconds")
    return not isinstance(seconds, float) or math.isfinite(seconds)


def _verdict(product_id: int, data: dict) -> tuple[str, int]:
    default = 86_400 if data["valid"] else OFFLINE_VALID_SECONDS
    valid_for = _bounded(data.get("recheck_seconds"), default)
    if not data["valid"]:
        reason = str(data.get("reason") or "").strip()
        return reason or "The licence server refused the licence key.", valid_for
    products = data.get("products")
    if isinstance(products, list) and not ({"*", str(product_id)} & {str(p) for p in products}):
        return f"The licence does not cover this product (id {product_id}).", valid_for
    return "", valid_for


def _bounded(seconds: object, default: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        seconds = default
    return int(min(max(seconds, MIN_RECHECK_SECONDS), MAX_RECHECK_SECONDS))


def _offline(product_id: int, key: str, *, note: str) -> LicenceCheck:
    error = _offline_error(product_id, key)
    if error and note:
        error = f"{error} {note}"
    return record_licence_check(product_id, key=key, error=error, valid_for=OFFLINE_VALID_SECONDS)


def _offline_error(product_id: int, key: str) -> str:
    public_keys = trusted_public_keys()
    if not public_keys:
        return "No licence public key is configured (LICENSING_PUBLIC_KEYS) to verify the key."
    try:
        claims = licence_verify(
            key,
            public_keys,
            now=clock.now(),
            grace=timedelta(days=settings.LICENSING_GRACE_DAYS),
        )
    except LicenceInvalid as exc:
        return str(exc)
    if not claims.covers(product_id):
        return f"The licence does not cover this product (id {product_id})."
    return ""


def trusted_public_keys() -> tuple[Ed25519PublicKey, ...]:
    """The issuer keys of ``LICENSING_PUBLIC_KEYS`` (checked at start, so they parse)."""
    return _parsed(settings.LICENSING_PUBLIC_KEYS)


@functools.cache
def _parsed(text: str) -> tuple[Ed25519PublicKey, ...]:
    return tuple(public_keys_from_pem(text))
