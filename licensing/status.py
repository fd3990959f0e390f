"""A product's licence state as the admin sees it: the seam between licence checks and the pages.

Licensing is asked and asks nobody: products are named by their id, and nothing here imports
provisioning. A check (the licensing work: online verification with an offline fallback)
records each result with :func:`record_licence_check`; the product page shows it as its status
row and the service page shows a red errorbox while the last check failed. A result names the
key it is about (a digest of it, :func:`licence_key_digest`): read with another key it is no
result, so a check that ran with a key the admin has since replaced says nothing of the new one.
Results live in the shared cache with the time until which the check says they hold (the
seed's "cached for the validity period encoded in the licence response"). The entry itself does
not expire: a result past that time is due for a new check, but pages keep reading it until the
new one replaces it, so a failing licence stays enforced between its expiry and the next
background round.

The admin banner lists the products whose check failed without asking about each product: an
index of the failing product ids is kept next to the results. Two checks recording at once may
lose each other's update of it, so the background check rebuilds it from the results after each
round (:func:`licence_failures_reindex`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

CACHE_PREFIX = "licensing:product"
FAILING_KEY = "licensing:failing"
NOT_CHECKED = "not checked yet"
RECHECKING = "(being checked again)"
_STORED_FIELDS = frozenset({"checked_at", "valid_until", "key_digest", "error"})


@dataclass(frozen=True)
class LicenceCheck:
    """The result of one licence verification of a product's key."""

    checked_at: datetime
    valid_until: datetime
    key_digest: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def is_for(self, key: str) -> bool:
        """Whether this is the result of ``key`` (and not of a key the product had before)."""
        return hmac.compare_digest(self.key_digest, licence_key_digest(key))

    @property
    def stale(self) -> bool:
        """Past the period the check said it holds: due for a new check, still in force."""
        return self.valid_until <= timezone.now()

    def summary(self) -> str:
        """The product page's status row: ``success: <time>`` or the error, and when the result
        ran out, that it is being checked again."""
        if self.ok:
            row = f"success: {timezone.localtime(self.checked_at):%Y-%m-%d %H:%M}"
        else:
            row = self.error
        return f"{row} {RECHECKING}" if self.stale else row


def cache_key(product_id: int) -> str:
    """Where the last result of a product is kept; tests delete it after themselves."""
    return f"{CACHE_PREFIX}:{product_id}"


def licence_key_digest(key: str) -> str:
    """Names the key a result is about: the sha256 of the whole key, signature included (two keys
    with one payload, one of them altered, get different verdicts), and of any text at all (the
    key may be malformed, unlike for ``licensing.tokens.licence_fingerprint``)."""
    return hashlib.sha256(key.strip().encode()).hexdigest()


def record_licence_check(
    product_id: int, *, key: str, error: str = "", valid_for: int
) -> LicenceCheck:
    """Store one check's result, which holds for ``valid_for`` seconds and is read until the next
    result replaces it; an empty ``error`` means success."""
    if valid_for < 1:
        raise ValueError(f"A licence result must hold for at least a second, got {valid_for}")
    now = timezone.now()
    check = LicenceCheck(
        checked_at=now,
        valid_until=now + timedelta(seconds=valid_for),
        key_digest=licence_key_digest(key),
        error=error.strip(),
    )
    _index_failing(product_id, failing=not check.ok)
    stored = {field: getattr(check, field) for field in _STORED_FIELDS}
    cache.set(cache_key(product_id), stored, None)
    return check


def forget_licence_check(product_id: int) -> None:
    """Drop the product's result (its key changed): it reads as not checked until the next check."""
    cache.delete(cache_key(product_id))
    _index_failing(product_id, failing=False)


def last_licence_check(product_id: int, key: str) -> LicenceCheck | None:
    """The most recent result of ``key``, stale or not (see :attr:`LicenceCheck.stale`), or
    None (also when the last result is of another key)."""
    check = _parsed(cache.get(cache_key(product_id)))
    return check if check is not None and check.is_for(key) else None


def failing_licence_checks() -> dict[int, LicenceCheck]:
    """The failed results, by product id: one or two cache reads in all. The asker keeps those
    of the products' current keys (:meth:`LicenceCheck.is_for`)."""
    product_ids = cache.get(FAILING_KEY) or []
    if not product_ids:
        return {}
    stored = cache.get_many([cache_key(product_id) for product_id in product_ids])
    checks = {
        product_id: check
        for product_id in product_ids
        if (check := _parsed(stored.get(cache_key(product_id)))) is not None
    }
    return {product_id: check for product_id, check in checks.items() if not check.ok}


def licence_failures_reindex(keys: Mapping[int, str]) -> None:
    """Rebuild the index of failing products from the results of their current ``keys`` (by
    product id: the asker names them, licensing does not know which products exist)."""
    stored = cache.get_many([cache_key(product_id) for product_id in keys])
    failing = [
        product_id
        for product_id, key in keys.items()
        if (check := _parsed(stored.get(cache_key(product_id)))) is not None
        and check.is_for(key)
        and not check.ok
    ]
    cache.set(FAILING_KEY, sorted(failing), None)


def _parsed(stored: object) -> LicenceCheck | None:
    """The stored result, or None for nothing (or an entry in an older shape: not a result)."""
    if not isinstance(stored, dict) or not stored.keys() >= _STORED_FIELDS:
        return None
    return LicenceCheck(**{field: stored[field] for field in _STORED_FIELDS})


def _index_failing(product_id: int, *, failing: bool) -> None:
    indexed = set(cache.get(FAILING_KEY) or [])
    if (product_id in indexed) == failing:
        return
    indexed = indexed | {product_id} if failing else indexed - {product_id}
    cache.set(FAILING_KEY, sorted(indexed), None)


def licence_error(product_id: int, key: str) -> str:
    """The errorbox text for the service page: the last check's error, or "" when none failed."""
    check = last_licence_check(product_id, key)
    return check.error if check is not None else ""


def licence_status_row(product_id: int, key: str) -> str:
    """The product page's status row under the licence key."""
    check = last_licence_check(product_id, key)
    return check.summary() if check is not None else NOT_CHECKED
