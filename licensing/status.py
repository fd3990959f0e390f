"""A product's licence state as the admin sees it: the seam between licence checks and the pages.

Licensing is asked and asks nobody: products are named by their id, and nothing here imports
provisioning. A check (the licensing work: online verification with an offline fallback)
records each result with :func:`record_licence_check`; the product page shows it as its status
row and the service page shows a red errorbox while the last check failed. Results live in the
shared cache for as long as the check says they hold (the seed's "cached for the validity
period encoded in the licence response"), so an expired result reads as "not checked" and the
next check decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

CACHE_PREFIX = "licensing:product"
NOT_CHECKED = "not checked yet"


@dataclass(frozen=True)
class LicenceCheck:
    """The result of one licence verification of a product's key."""

    checked_at: datetime
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def summary(self) -> str:
        """The product page's status row: ``success: <time>`` or the error."""
        if self.ok:
            return f"success: {timezone.localtime(self.checked_at):%Y-%m-%d %H:%M}"
        return self.error


def cache_key(product_id: int) -> str:
    """Where the last result of a product is kept; tests delete it after themselves."""
    return f"{CACHE_PREFIX}:{product_id}"


def record_licence_check(product_id: int, *, error: str = "", valid_for: int) -> LicenceCheck:
    """Store one check's result for ``valid_for`` seconds; an empty ``error`` means success."""
    if valid_for < 1:
        raise ValueError(f"A licence result must hold for at least a second, got {valid_for}")
    check = LicenceCheck(checked_at=timezone.now(), error=error.strip())
    cache.set(
        cache_key(product_id), {"checked_at": check.checked_at, "error": check.error}, valid_for
    )
    return check


def last_licence_check(product_id: int) -> LicenceCheck | None:
    """The most recent result still valid, or None when no check holds."""
    stored = cache.get(cache_key(product_id))
    if not isinstance(stored, dict):
        return None
    return LicenceCheck(checked_at=stored["checked_at"], error=stored["error"])


def licence_error(product_id: int) -> str:
    """The errorbox text for the service page: the last check's error, or "" when none failed."""
    check = last_licence_check(product_id)
    return check.error if check is not None else ""


def licence_status_row(product_id: int) -> str:
    """The product page's status row under the licence key."""
    check = last_licence_check(product_id)
    return check.summary() if check is not None else NOT_CHECKED
