"""Timeouts and retry policy for panel calls; their values come from the caller (the portal reads
them from its settings in ``provisioning.panels``), the defaults from this module."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 20.0
DEFAULT_RETRY_ATTEMPTS = 3
DEFAULT_RETRY_BACKOFF = 0.5
DEFAULT_RETRY_MAX_BACKOFF = 8.0
DEFAULT_RETRY_JITTER = 0.25


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection and, once connected, for each read."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        if not (self.connect > 0 and self.read > 0):
            raise ValueError(f"Panel timeouts must be positive, got {self.connect}/{self.read}")

    def as_requests(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently calls that are safe to repeat are retried.

    ``attempts`` counts the first try. The wait before retry *n* is ``backoff * 2**(n-1)`` plus up
    to ``jitter`` times that at random, never more than ``max_backoff`` seconds.
    """

    attempts: int = DEFAULT_RETRY_ATTEMPTS
    backoff: float = DEFAULT_RETRY_BACKOFF
    max_backoff: float = DEFAULT_RETRY_MAX_BACKOFF
    jitter: float = DEFAULT_RETRY_JITTER

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"Panel retry attempts must be at least 1, got {self.attempts}")
        if min(self.backoff, self.max_backoff, self.jitter) < 0:
            raise ValueError("Panel retry backoff, max_backoff and jitter must not be negative")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = self.backoff * 2 ** (attempt - 1)
        return min(base * (1 + self.jitter * rand()), self.max_backoff)
