"""Exactly one beat: a second ``celery beat`` (another machine, by mistake or for failover)
stands by instead of sending every scheduled job a second time.

``LockedScheduler`` sends due tasks only while its beat holds a lock in the shared Redis. The
holder renews the lock on every tick (it ticks at least every third of the lock's TTL) and
releases it on shutdown; a standby tries again every third of the TTL, so it takes over within
about one TTL of the holder's death.

The holder also writes each entry's last run to a Redis hash, and a beat adopts those times
whenever it takes the lock, including taking it back after a stall during which its lock lapsed:
its own schedule file is stale (another beat may have sent meanwhile), and without them it would
at once send every job whose slot passed since it last sent — the daily billing jobs the other
beat ran this morning among them.

Without Redis (the embedded mode: one machine, the filesystem broker, the single beat inside
``make run``) there is nothing shared to lock and the scheduler is celery's PersistentScheduler
unchanged.
"""

import enum
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

import redis
from celery.beat import PersistentScheduler, ScheduleEntry
from celery.utils.time import maybe_make_aware
from django.conf import settings

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class Hold(enum.Enum):
    """What a beat's claim on the lock came to: false only when another beat holds it."""

    ACQUIRED = "acquired"  # taken anew: it was free (or lapsed while its holder stalled)
    RENEWED = "renewed"  # still ours, extended
    REFUSED = "refused"  # another beat's

    def __bool__(self) -> bool:
        return self is not Hold.REFUSED


@dataclass(frozen=True, slots=True)
class Holder:
    host: str
    pid: int

    def __str__(self) -> str:
        return f"host {self.host}, pid {self.pid}"


class BeatLock:
    """A beat's claim on one Redis key: SET NX PX with a token of its own. Only the token's owner
    renews or releases it (compare-and-act in a script), so a beat whose lock lapsed while it
    stalled cannot extend or delete its successor's."""

    def __init__(self, client: redis.Redis, key: str, ttl_seconds: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = json.dumps(
            {"host": socket.gethostname(), "pid": os.getpid(), "id": uuid.uuid4().hex}
        )
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def hold(self) -> Hold:
        """Renew the lock while it is ours; take it when it is free."""
        if self.renew():
            return Hold.RENEWED
        return Hold.ACQUIRED if self.acquire() else Hold.REFUSED

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.token])

    def holder(self) -> Holder | None:
        raw = self.client.get(self.key)
        if raw is None:
            return None
        try:
            claim = json.loads(raw)
            return Holder(host=str(claim["host"]), pid=int(claim["pid"]))
        except (ValueError, KeyError, TypeError):
            return Holder(host="unknown", pid=0)


class LastRuns:
    """When each schedule entry was last sent, by whichever beat held the lock: a Redis hash."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client = client
        self.key = key

    def record(self, name: str, at: datetime) -> None:
        self.client.hset(self.key, name, maybe_make_aware(at).isoformat())

    def load(self) -> dict[str, datetime]:
        runs = {}
        for name, value in self.client.hgetall(self.key).items():
            try:
                runs[name.decode()] = datetime.fromisoformat(value.decode())
            except ValueError:
                logger.warning("beat: ignoring the unreadable last run %r of %r", value, name)
        return runs


class LockedScheduler(PersistentScheduler):
    """Celery's file-backed scheduler that sends due tasks only while its beat holds the lock."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.lock_ttl = settings.BEAT_LOCK_TTL_SECONDS
        self._lock: BeatLock | None = None
        self._last_runs: LastRuns | None = None
        self._holding = False
        self._state = ""
        super().__init__(*args, **kwargs)

    def tick(self, *args: object, **kwargs: object) -> float:
        if not settings.REDIS_URL:
            return super().tick(*args, **kwargs)
        if not self._hold_lock():
            return self.lock_ttl / 3
        return min(super().tick(*args, **kwargs), self.lock_ttl / 3)

    def apply_entry(self, entry: ScheduleEntry, producer: object = None) -> None:
        super().apply_entry(entry, producer=producer)
        if self._last_runs is None:
            return
        try:
            self._last_runs.record(entry.name, self.schedule[entry.name].last_run_at)
        except redis.RedisError as exc:
            logger.warning(
                "beat: could not record the last run of %s in Redis: %s", entry.name, exc
            )

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release_lock()

    def _hold_lock(self) -> bool:
        was_holding = self._holding
        try:
            lock = self._lock or self._connect()
            hold = lock.hold()
            self._holding = bool(hold)
            # Taken anew, the lock may have been another beat's meanwhile (ours lapsed while
            # this beat stalled): it may have sent jobs our schedule still calls due.
            if hold is Hold.ACQUIRED or (hold and not was_holding):
                adopted = self._adopt_last_runs()
                self._state = ""  # a new holding, logged even when it follows one
                self._log_state(
                    "holding",
                    "beat active: holds the lock %s (%s); %d last runs taken over from Redis",
                    lock.key,
                    Holder(socket.gethostname(), os.getpid()),
                    adopted,
                )
            elif not self._holding:
                holder = lock.holder()
                self._log_state(
                    f"standby {holder}",
                    "beat standby: another beat holds the lock (%s); sending nothing while it does",
                    holder or "just released",
                )
        except redis.RedisError as exc:
            self._holding = False
            self._log_state(
                "unreachable", "beat paused: Redis is unreachable, sending nothing: %s", exc
            )
        return self._holding

    def _connect(self) -> BeatLock:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        prefix = settings.BEAT_REDIS_KEY_PREFIX
        self._lock = BeatLock(client, f"{prefix}:lock", self.lock_ttl)
        self._last_runs = LastRuns(client, f"{prefix}:last-run")
        return self._lock

    def _adopt_last_runs(self) -> int:
        """Move each entry's last run forward to the one the other beat recorded, if later."""
        shared = self._last_runs.load()
        adopted = 0
        for name, entry in self.schedule.items():
            at = shared.get(name)
            if at is not None and at > maybe_make_aware(entry.last_run_at):
                entry.last_run_at = at
                adopted += 1
        self._heap = None  # rebuilt from the adopted times on the next tick
        return adopted

    def _release_lock(self) -> None:
        if not (self._holding and self._lock):
            return
        self._holding = False
        try:
            self._lock.release()
        except redis.RedisError as exc:
            logger.warning("beat: could not release the lock (it lapses by itself): %s", exc)
        else:
            logger.info("beat: released the lock %s", self._lock.key)

    def _log_state(self, state: str, message: str, *args: object) -> None:
        """Log each change of role once, not on every tick."""
        if state != self._state:
            self._state = state
            logger.log(logging.WARNING if state == "unreachable" else logging.INFO, message, *args)
