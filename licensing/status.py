"""A product's licence state as the admin sees it: the seam between licence checks and the pages.

Licensing is asked and asks nobody: products are named by their id, and nothing here imports
provisioning. A check (the licensing work: online verification with an offline fallback)
records each result with :func:`record_licence_check`; the product page shows it as its status
row and the service page shows a red errorbox while the last check failed. Results live in the
shared cache with the time until which the check says they hold (the seed's "cached for the
validity period encoded in the licence response"). The entry itself does not expire: a result
past that time is due for a new check, but pages keep reading it until the new one replaces it,
so a failing licence stays enforced between its expiry and the next background round.

The admin banner lists the products whose check failed without asking about each product: an
index of the failing product ids is kept next to the results. Two checks recording at once may
lose each other's update of it, so the background check rebuilds it from the results after each
round (:func:`licence_failures_reindex`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

CACHE_PREFIX = "licensing:product"
FAILING_KEY = "licensing:failing"
NOT_CHECKED = "not checked yet"
RECHECKING = "(being checked again)"


@dataclass(frozen=True)
class LicenceCheck:
    """The result of one licence verification of a product's key."""

    checked_at: datetime
    valid_until: datetime
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

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


def record_licence_check(product_id: int, *, error: str = "", valid_for: int) -> LicenceCheck:
    """Store one check's result, which holds for ``valid_for`` seconds and is read until the next
    result replaces it; an empty ``error`` means success."""
    if valid_for < 1:
        raise ValueError(f"A licence result must hold for at least a second, got {valid_for}")
    now = timezone.now()
    check = LicenceCheck(
        checked_at=now, valid_until=now + timedelta(seconds=valid_for), error=error.strip()
    )
    _index_failing(product_id, failing=not check.ok)
    stored = {
        "checked_at": check.checked_at,
        "valid_until": check.valid_until,
        "error": check.error,
    }
    cache.set(cache_key(product_id), stored, None)
    return check


def forget_licence_check(product_id: int) -> None:
    """Drop the product's result (its key changed): it reads as not checked until the next check."""
    cache.delete(cache_key(product_id))
    _index_failing(product_id, failing=False)


def last_licence_check(product_id: int) -> LicenceCheck | None:
    """The most recent result, stale or not (see :attr:`LicenceCheck.stale`), or None."""
    return _parsed(cache.get(cache_key(product_id)))


def failing_licence_checks() -> dict[int, LicenceCheck]:
    """The failed results that still hold, by product id: one or two cache reads in all."""
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


def licence_failures_reindex(product_ids: Iterable[int]) -> None:
    """Rebuild the index of failing products from the results of ``product_ids`` (the asker
    names them: licensing does not know which products exist)."""
    product_ids = list(product_ids)
    stored = cache.get_many([cache_key(product_id) for product_id in product_ids])
    failing = [
        product_id
        for product_id in product_ids
        if (check := _parsed(stored.get(cache_key(product_id)))) is not None and not check.ok
    ]
    cache.set(FAILING_KEY, sorted(failing), None)


def _parsed(stored: object) -> LicenceCheck | None:
    """The stored result, or None for nothing (or an entry in an older shape: not a result)."""
    if not isinstance(stored, dict) or not {"checked_at", "valid_until", "error"} <= stored.keys():
        return None
    return LicenceCheck(
        checked_at=stored["checked_at"], valid_until=stored["valid_until"], error=stored["error"]
    )


def _index_failing(product_id: int, *, failing: bool) -> None:
    indexed = set(cache.get(FAILING_KEY) or [])
    if (product_id in indexed) == failing:
        return
    indexed = indexed | {product_id} if failing else indexed - {product_id}
    cache.set(FAILING_KEY, sorted(indexed), None)


def licence_error(product_id: int) -> str:
    """The errorbox text for the service page: the last check's error, or "" when none failed."""
    check = last_licence_check(product_id)
    return check.error if check is not None else ""


def licence_status_row(product_id: int) -> str:
    """The product page's status row under the licence key."""
    check = last_licence_check(product_id)
    return check.summary() if check is not None else NOT_CHECKED
