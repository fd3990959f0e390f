"""Fault injection: what a flaky panel, a slow link or a broken proxy in front of it does.

Decisions are made once per API request, before it is handled, under a lock and with a seeded
``random.Random`` so a run with the same seed and request order fails the same way. The one
exception is ``drop_after_write``: it is taken after the write, and only if the write was applied.
"""

from __future__ import annotations

import copy
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from vpnpanel.simulator.errors import PanelError

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
COUNTERS = ("garbage_next", "html_error_next", "drop_after_write_next")


@dataclass
class Rule:
    """Fail the next ``count`` calls matching ``method`` and ``path`` without applying them.

    ``count=None`` fails every matching call until the faults are reset: an endpoint switched off.
    """

    path: str
    method: str | None = None
    count: int | None = 1
    status: int = 500
    message: str = "Injected failure"

    def matches(self, method: str, api_path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return re.search(self.path, api_path) is not None

    def spend(self) -> None:
        if self.count is not None:
            self.count -= 1


@dataclass
class FaultSettings:
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 30.0
    garbage_next: int = 0
    html_error_next: int = 0
    drop_after_write_next: int = 0
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """A response that replaces the real one; ``kind`` is garbage, html, error or rule."""

    kind: str
    status: int
    message: str


@dataclass(frozen=True)
class Decision:
    delay: float = 0.0
    outcome: Outcome | None = None


class Faults:
    """The fault settings and the dice; ``start`` holds the settings given on the command line."""

    def __init__(self, *, seed: int, start: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._start = _merged(asdict(FaultSettings()), start or {})
        self._random = random.Random(seed)
        self._settings = copy.deepcopy(self._start)

    def wipe(self) -> None:
        """The start settings and freshly seeded dice, so calls fail as after a fresh start."""
        with self._lock:
            self._random = random.Random(self._seed)
            self._settings = copy.deepcopy(self._start)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._settings)

    def reset(self) -> None:
        with self._lock:
            self._settings = FaultSettings()

    def merge(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a partial update; ``rules`` replaces the rule list. All-or-nothing."""
        with self._lock:
            updated = _merged(asdict(self._settings), changes)
            self._settings = updated
        return self.snapshot()

    def decide(self, method: str, api_path: str) -> Decision:
        with self._lock:
            s = self._settings
            delay = s.latency_ms / 1000
            if s.timeout_rate and self._random.random() < s.timeout_rate:
                delay += s.hang_seconds
            return Decision(delay=delay, outcome=self._outcome(method, api_path))

    def take_drop_after_write(self, method: str, status: int) -> bool:
        """Spend one ``drop_after_write_next`` on a write that was applied (2xx).

        Asked after the call is handled, so a rejected write (nothing applied) neither drops
        the connection nor uses up the counter.
        """
        if method not in WRITE_METHODS or not 200 <= status < 300:
            return False
        with self._lock:
            if self._settings.drop_after_write_next <= 0:
                return False
            self._settings.drop_after_write_next -= 1
            return True

    def _outcome(self, method: str, api_path: str) -> Outcome | None:
        s = self._settings
        if s.html_error_next > 0:
            s.html_error_next -= 1
            return Outcome("html", 502, "Bad Gateway")
        if s.garbage_next > 0:
            s.garbage_next -= 1
            return Outcome("garbage", 200, "garbage")
        if s.error_rate and self._random.random() < s.error_rate:
            return Outcome("error", 500, "Internal server error")
        for rule in s.rules:
            if rule.matches(method, api_path):
                rule.spend()
                return Outcome("rule", rule.status, rule.message)
        return None


def _merged(current: dict[str, Any], changes: dict[str, Any]) -> FaultSettings:
    if not isinstance(changes, dict):
        raise PanelError("Faults must be a JSON object")
    unknown = set(changes) - set(current)
    if unknown:
        raise PanelError(f"Unknown fault: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    merged = {**current, **changes}
    try:
        settings = FaultSettings(
            latency_ms=_number(merged["latency_ms"], "latency_ms", int, 0, 600_000),
            error_rate=_number(merged["error_rate"], "error_rate", float, 0, 1),
            timeout_rate=_number(merged["timeout_rate"], "timeout_rate", float, 0, 1),
            hang_seconds=_number(merged["hang_seconds"], "hang_seconds", float, 0, 3600),
            **{name: _number(merged[name], name, int, 0, 1_000_000) for name in COUNTERS},
            rules=[_rule(rule) for rule in merged["rules"] or []],
        )
    except (TypeError, ValueError, re.error) as exc:
        raise PanelError(f"Invalid fault settings: {exc}") from None
    return settings


def _number(value: Any, name: str, kind: type, low: float, high: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PanelError(f"{name} must be a number", field=name)
    if not low <= value <= high:
        raise PanelError(f"{name} must be between {low} and {high}", field=name)
    return kind(value)


def _rule(raw: Any) -> Rule:
    if isinstance(raw, Rule):
        return raw
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise PanelError("A rule needs at least a 'path' regex", field="rules")
    rule = Rule(**raw)
    re.compile(rule.path)
    if rule.count is not None:
        rule.count = _number(rule.count, "count", int, 0, 1_000_000)
    return rule
