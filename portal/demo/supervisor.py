"""Starts the demo's processes and stops every one of them again, including their children.

Each child runs in its own session (process group), so Ctrl-C reaches only the supervisor, which
then terminates every group, waits, and kills what is left.
"""

import contextlib
import datetime
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


class ProcessFailed(RuntimeError):
    """A supervised process exited or never became ready."""


#: The line each start writes to its process's log; ``log_tail`` shows only what follows it, so a
#: failure excerpt is this run's lines, never an earlier run's.
START_MARKER = "==== demo process started"


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log_path: Path
    ready_url: str = ""
    #: Ready only when ``ready_url`` answers 200 with a body containing this (another program on
    #: the port, such as a simulated panel answering 404, is not this process).
    ready_marker: bytes = b""
    popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines this run wrote (none of an earlier run's)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        this_run = text.rsplit(START_MARKER, 1)[-1].split("\n", 1)[-1]
        return "\n".join(this_run.splitlines()[-lines:])


class Supervisor:
    def __init__(self, log_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.env = env or dict(os.environ)
        self.processes: list[ManagedProcess] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        ready_url: str = "",
        ready_marker: bytes = b"",
        extra_env: dict[str, str] | None = None,
    ) -> ManagedProcess:
        process = ManagedProcess(name, argv, self.log_dir / f"{name}.log", ready_url, ready_marker)
        log_file = process.log_path.open("ab")
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        log_file.write(f"{START_MARKER} {started}: {name} ====\n".encode())
        log_file.flush()
        process.popen = subprocess.Popen(  # noqa: S603 - argv is built by the caller, no shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**self.env, **(extra_env or {})},
            start_new_session=True,
        )
        log_file.close()
        self.processes.append(process)
        return process

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for process in self.processes:
            if process.ready_url:
                _wait_for_url(process, deadline)

    def first_exited(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.running), None)

    def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM each leader, so a Celery worker shuts its own pool down (signalling the whole
        group kills the pool children under it, which it then reports as errors); whatever is
        left of a group after ``grace`` is killed."""
        for process in self.processes:
            _signal_leader(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            _wait_or_kill(process, deadline)

    def pids(self) -> list[int]:
        return [p.popen.pid for p in self.processes if p.popen]


def _wait_for_url(process: ManagedProcess, deadline: float) -> None:
    """Until ``ready_url`` answers 200 (with the marker): any other answer is not yet, or not
    this process."""
    last = "no answer"
    while time.monotonic() < deadline:
        if not process.running:
            raise ProcessFailed(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(process.ready_url, timeout=2) as response:  # noqa: S310
                if process.ready_marker in response.read():
                    return
                last = "HTTP 200 without the expected answer"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError):
            last = "no answer"
        time.sleep(0.2)
    raise ProcessFailed(
        f"{process.name} did not answer {process.ready_url} with 200 (last: {last}):\n"
        f"{process.log_tail()}"
    )


def _signal_leader(process: ManagedProcess, sig: signal.Signals) -> None:
    if process.popen is None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.popen.send_signal(sig)


def _signal_group(process: ManagedProcess, sig: signal.Signals) -> None:
    if process.popen is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, sig)


def _wait_or_kill(process: ManagedProcess, deadline: float) -> None:
    if process.popen is None:
        return
    try:
        process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.popen.wait(timeout=5)
    # The leader may be gone while pool children linger; make sure the whole group is.
    _signal_group(process, signal.SIGKILL)
