"""Exactly one beat (portal.core.beat): the lock itself, the scheduler's roles, and two real
``celery beat`` processes on one Redis of which only one sends the schedule."""

import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery

from portal.core.beat import BeatLock, Hold, Holder, LastRuns, LockedScheduler
from tests.services import redis_url_or_skip
from tests.workers import REPO_ROOT, process_stop

PROBE_APP = "tests.portal.beat_probe_app"  # schedule: "probe" every second
PROCESS_LOCK_TTL = 3.0


@pytest.fixture
def redis_url() -> str:
    return redis_url_or_skip()


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A private lock key, last-run hash and queue name; all removed from Redis afterwards."""
    prefix = f"test-beat-{uuid.uuid4().hex[:12]}"
    yield prefix
    # The lock, the last runs, the queue and kombu's bindings of it.
    leftovers = list(redis_client.scan_iter(match=f"*{prefix}*"))
    if leftovers:
        redis_client.delete(*leftovers)


# The lock ----------------------------------------------------------------------------------------


@pytest.fixture
def two_locks(redis_client: redis.Redis, key_prefix: str) -> tuple[BeatLock, BeatLock]:
    key = f"{key_prefix}:lock"
    return BeatLock(redis_client, key, ttl_seconds=30), BeatLock(redis_client, key, ttl_seconds=30)


@pytest.mark.services
def test_a_second_beat_cannot_take_a_held_lock_and_learns_who_holds_it(two_locks):
    first, second = two_locks

    assert first.acquire()

    assert not second.acquire()
    assert not second.hold()
    assert second.holder() == Holder(socket.gethostname(), os.getpid())


@pytest.mark.services
def test_only_the_holder_renews_the_lock(two_locks, redis_client: redis.Redis):
    first, second = two_locks
    first.acquire()
    redis_client.pexpire(first.key, 1000)  # as if most of the TTL had passed

    assert not second.renew()
    assert redis_client.pttl(first.key) <= 1000
    assert first.renew()
    assert redis_client.pttl(first.key) > 29_000


@pytest.mark.services
def test_a_lapsed_lock_goes_to_the_next_beat_and_is_lost_to_the_old_holder(
    two_locks, redis_client: redis.Redis
):
    first, second = two_locks
    first.acquire()
    redis_client.pexpire(first.key, 50)  # the holder stalled past its TTL
    time.sleep(0.2)

    assert second.hold()
    assert not first.renew()
    assert not first.hold()
    assert redis_client.get(first.key).decode() == second.token


@pytest.mark.services
def test_a_beat_releases_only_its_own_lock(two_locks, redis_client: redis.Redis):
    first, second = two_locks
    first.acquire()
    redis_client.delete(first.key)  # lapsed
    second.acquire()

    first.release()
    assert redis_client.get(first.key).decode() == second.token

    second.release()
    assert redis_client.get(first.key) is None


# The scheduler, in this process ------------------------------------------------------------------


@pytest.fixture
def scheduler_for(
    settings, tmp_path: Path, redis_url: str, key_prefix: str
) -> Iterator[Callable[[str], LockedScheduler]]:
    """A LockedScheduler per beat name, on a Celery app whose schedule has one job ("hourly", or
    "every" with another period in seconds) last sent two hours ago (so it is due), sending to
    the private queue; all closed afterwards."""
    settings.REDIS_URL = redis_url
    settings.BEAT_REDIS_KEY_PREFIX = key_prefix
    settings.BEAT_LOCK_TTL_SECONDS = 30
    schedulers = []

    def make(name: str, every: float = 3600.0) -> LockedScheduler:
        entry = "hourly" if every == 3600.0 else "every"
        app = Celery(f"beat-{name}", broker=redis_url, set_as_current=False)
        app.conf.update(
            timezone="UTC",
            task_default_queue=key_prefix,
            task_serializer="json",
            accept_content=["json"],
            beat_schedule={entry: {"task": "tests.beat_probe", "schedule": every}},
        )
        scheduler = LockedScheduler(app=app, schedule_filename=str(tmp_path / f"{name}-schedule"))
        scheduler.schedule[entry].last_run_at -= timedelta(hours=2)
        schedulers.append(scheduler)
        return scheduler

    yield make
    for scheduler in schedulers:
        scheduler.close()


@pytest.mark.services
def test_a_standby_beat_sends_nothing_and_says_who_holds_the_lock(
    scheduler_for, redis_client: redis.Redis, key_prefix: str, caplog
):
    active, standby = scheduler_for("a"), scheduler_for("b")
    caplog.set_level(logging.INFO, logger="portal.core.beat")

    assert active.tick() == 0  # sent the due job
    assert standby.tick() == pytest.approx(10)  # looks again in a third of the TTL

    assert redis_client.llen(key_prefix) == 1
    assert standby.schedule["hourly"].total_run_count == 0
    assert (
        f"beat standby: another beat holds the lock (host {socket.gethostname()}, "
        f"pid {os.getpid()})" in caplog.text
    )


@pytest.mark.services
def test_a_beat_taking_over_adopts_the_last_runs_so_nothing_runs_twice(
    scheduler_for, redis_client: redis.Redis, key_prefix: str
):
    """Beat A sends the due job and stops (releasing the lock); beat B, whose schedule file still
    says two hours ago, takes over and does not send the job again."""
    first, second = scheduler_for("a"), scheduler_for("b")
    first.tick()
    sent_at = first.schedule["hourly"].last_run_at
    assert LastRuns(redis_client, f"{key_prefix}:last-run").load() == {"hourly": sent_at}

    first.close()
    assert redis_client.get(f"{key_prefix}:lock") is None
    delay = second.tick()

    assert redis_client.get(f"{key_prefix}:lock").decode() == second._lock.token
    assert second.schedule["hourly"].last_run_at == sent_at
    assert delay > 0
    assert second.tick() > 0
    assert redis_client.llen(key_prefix) == 1


def test_without_redis_the_scheduler_sends_without_a_lock(settings, tmp_path: Path):
    """The embedded mode: no Redis, one beat, celery's file-backed scheduler unchanged."""
    settings.REDIS_URL = ""
    app = Celery("beat-embedded", broker="memory://", set_as_current=False)
    app.conf.update(
        timezone="UTC", beat_schedule={"hourly": {"task": "tests.beat_probe", "schedule": 3600.0}}
    )
    scheduler = LockedScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))
    scheduler.schedule["hourly"].last_run_at -= timedelta(hours=2)
    try:
        assert scheduler.tick() == 0
        assert scheduler.schedule["hourly"].total_run_count == 1
        assert scheduler._lock is None
    finally:
        scheduler.close()


# Two real beat processes -------------------------------------------------------------------------


@contextmanager
def beat_process(tmp_path: Path, name: str, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """``celery beat`` with the probe schedule until the block ends (SIGTERM, then SIGKILL)."""
    argv = [
        sys.executable, "-m", "celery", "-A", PROBE_APP, "beat", "--loglevel", "INFO",
        "--schedule", str(tmp_path / f"{name}-schedule"),
    ]  # fmt: skip
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    process.log_path = log_path
    try:
        yield process
    finally:
        process_stop(process, grace=10)


def _log(process: subprocess.Popen) -> str:
    return process.log_path.read_text(errors="replace")


def _wait_until(condition: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds it took until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - start


def _senders(redis_client: redis.Redis, queue: str) -> Counter[int]:
    """Messages in the queue per pid of the beat that sent them (the ``origin`` header)."""
    origins = (json.loads(raw)["headers"]["origin"] for raw in redis_client.lrange(queue, 0, -1))
    return Counter(int(origin.split("@")[0].removeprefix("gen")) for origin in origins)


@pytest.mark.services
@pytest.mark.timeout(60)
def test_two_beats_send_each_slot_once_and_the_standby_takes_over_when_the_holder_dies(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, key_prefix: str
):
    env = {
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": key_prefix,
        "BEAT_REDIS_KEY_PREFIX": key_prefix,
        "BEAT_LOCK_TTL_SECONDS": str(PROCESS_LOCK_TTL),
    }
    with ExitStack() as stack:
        beats = [stack.enter_context(beat_process(tmp_path, name, env)) for name in "ab"]
        _wait_until(
            lambda: all("beat active" in _log(b) or "beat standby" in _log(b) for b in beats),
            timeout=20,
            what="both beats started and chose their role",
        )
        holder_pid = json.loads(redis_client.get(f"{key_prefix}:lock"))["pid"]
        holder, standby = sorted(beats, key=lambda beat: beat.pid != holder_pid)

        before, started = redis_client.llen(key_prefix), time.monotonic()
        time.sleep(6)
        sent, seconds = redis_client.llen(key_prefix) - before, time.monotonic() - started

        assert set(_senders(redis_client, key_prefix)) == {holder.pid}
        assert seconds / 2 <= sent <= seconds + 1  # one probe a second, not two
        assert f"pid {holder.pid})" in _log(standby)

        holder.kill()  # a dead machine: no release, its lock lapses after the TTL
        took_over_after = _wait_until(
            lambda: _senders(redis_client, key_prefix)[standby.pid] > 0,
            timeout=PROCESS_LOCK_TTL + 5,
            what="the standby sent the probe after the holder died",
        )

        assert took_over_after >= 1  # not while the dead holder's lock held (renewed each second)
        assert "beat active" in _log(standby)


@pytest.mark.services
def test_a_beat_taking_the_lock_back_after_a_stall_adopts_the_last_runs(
    scheduler_for, redis_client: redis.Redis, key_prefix: str
):
    """A sends a job every 2 s and stalls past its TTL; B takes over, sends the job's next slot
    and stops before A's next tick. A's lock is gone, so A takes it anew: it must adopt B's last
    run, not resend the slot B sent because its own schedule still says A's run."""
    stalled, successor = scheduler_for("a", every=2.0), scheduler_for("b", every=2.0)
    assert stalled.tick() == 0  # holds the lock, sends the due job
    redis_client.delete(f"{key_prefix}:lock")  # the stall: A's lock lapsed

    assert successor.tick() > 0  # B takes the lock and adopts A's run
    time.sleep(2.1)
    successor.tick()  # B sends the next slot
    sent_at = successor.schedule["every"].last_run_at
    successor.close()  # B stops before A wakes
    assert redis_client.llen(key_prefix) == 2

    assert stalled.tick() > 0
    assert redis_client.get(f"{key_prefix}:lock").decode() == stalled._lock.token
    assert stalled.schedule["every"].last_run_at == sent_at
    assert redis_client.llen(key_prefix) == 2


@pytest.mark.services
def test_hold_says_whether_the_lock_was_renewed_or_taken_anew(two_locks, redis_client: redis.Redis):
    first, second = two_locks

    assert first.hold() is Hold.ACQUIRED
    assert first.hold() is Hold.RENEWED
    assert second.hold() is Hold.REFUSED
    assert not Hold.REFUSED
    redis_client.delete(first.key)  # lapsed while the holder stalled
    assert first.hold() is Hold.ACQUIRED
