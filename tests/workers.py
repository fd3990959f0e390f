"""A real Celery worker in a subprocess, for tests that must cross the broker."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def celery_worker(
    *,
    env: dict[str, str],
    log_path: Path,
    queue: str | None = None,
    concurrency: int = 1,
    ready_timeout: float = 60,
) -> Iterator[str]:
    """Run ``celery worker`` on its own queue until the block ends; yields the queue name.

    One process runs the solo pool; more run prefork, as in production.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    with celery_worker_process(
        env=env,
        log_path=log_path,
        queue=queue,
        concurrency=concurrency,
        ready_timeout=ready_timeout,
    ):
        yield queue


@contextmanager
def celery_worker_process(
    *, env: dict[str, str], log_path: Path, queue: str, concurrency: int, ready_timeout: float = 60
) -> Iterator[subprocess.Popen]:
    """The worker process itself, ready, for a test that kills it; stopped when the block ends
    (SIGTERM, then SIGKILL), unless the test already did."""
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork"]
    argv = [
        sys.executable, "-m", "celery", "-A", "portal", "worker",
        "--queues", queue, "--concurrency", str(concurrency), *pool,
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        "--hostname", f"{queue}@%h",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_ready(process, log_path, ready_timeout)
        yield process
    finally:
        process_stop(process)


def process_stop(process: subprocess.Popen, *, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; nothing when it already ended."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _wait_until_ready(process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if " ready." in log:
            return
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited with {process.returncode}:\n{log[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready after {timeout}s:\n{log_path.read_text()[-3000:]}")
