"""A fixed-window rate limit on the shared cache, for customer endpoints that call out or mint.

Each window is one cache counter created with ``cache.add`` (atomic: only one caller creates it)
and bumped with ``cache.incr`` (atomic on Redis and LocMem; the file cache of the embedded demo
only approximates it, which is fine for a single-user demo).
"""

from __future__ import annotations

import contextlib
import math
import time

from django.core.cache import cache

KEY_PREFIX = "ratelimit"


def hit(key: str, limit: int, window: int) -> bool:
    """Count one request against ``key``; True while at most ``limit`` fell in this window.

    ``window`` is in seconds; windows are aligned to the clock, so a burst may straddle two.
    """
    if limit < 1 or window < 1:
        raise ValueError(f"Rate limit needs limit and window >= 1, got {limit}/{window}")
    bucket = _bucket(key, window)
    # A little longer than the window, so the counter cannot vanish while its window is current.
    if cache.add(bucket, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr: this request opens a new counter
        cache.add(bucket, 1, timeout=window + 1)
        return True
    return count <= limit


def count(key: str, window: int) -> int:
    """How many hits ``key`` has had in the current window, counting none."""
    return cache.get(_bucket(key, window), 0)


def undo(key: str, window: int) -> None:
    """Give back one hit of the current window, for a request that turned out not to count."""
    # No counter in the current window (it rolled over meanwhile): nothing to give back.
    with contextlib.suppress(ValueError):
        cache.decr(_bucket(key, window))


def reset(key: str, window: int) -> None:
    """Forget every hit of the current window on ``key``."""
    cache.delete(_bucket(key, window))


def retry_after(window: int) -> int:
    """Whole seconds until the current window of ``window`` seconds ends (at least 1)."""
    now = time.time()
    return max(1, math.ceil((now // window + 1) * window - now))


def _bucket(key: str, window: int) -> str:
    return f"{KEY_PREFIX}:{key}:{int(time.time() // window)}"
