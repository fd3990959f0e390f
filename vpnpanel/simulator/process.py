"""Run the simulator as a subprocess, for tests and the demo runner."""

from __future__ import annotations

import os
import queue
import secrets
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import requests

from vpnpanel.simulator.context import TOKEN_ENV

READY_PREFIX = "listening on "
KNOB_TIMEOUT = 10.0


class SimulatorProcess:
    """One simulator subprocess bound to a data dir; ``restart()`` keeps its port and state.

    ``url`` is the base (``http://127.0.0.1:PORT``); the panel API is under ``url + "/api/v1/"``.
    Its stderr (request log, tracebacks) goes to ``data_dir/simulator.log``.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        networks: Sequence[str] = (),
        slots: int | None = None,
        seed: int | None = None,
        endpoint_host: str | None = None,
        version: str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 20.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.token = token or secrets.token_hex(16)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._options = _options(networks, slots, seed, endpoint_host, version) + list(extra_args)
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.returncode: int | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1/"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "simulator.log"

    @property
    def pid(self) -> int | None:
        """The running subprocess's id (None when stopped), e.g. to read its CPU time."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.returncode = None
        command = [
            sys.executable,
            "-m",
            "vpnpanel.simulator",
            f"--host={self.host}",
            f"--port={self.port}",
            f"--data-dir={self.data_dir}",
            *self._options,
        ]
        with self.log_path.open("a") as log:
            self._process = subprocess.Popen(  # noqa: S603 (our own module, no shell)
                command, stdout=subprocess.PIPE, stderr=log, text=True, env=self._environment()
            )
        self.url = self._await_ready(self._process)
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def _environment(self) -> dict[str, str]:
        """The token travels in the environment, not argv, so ``ps`` does not show it."""
        return {**os.environ, TOKEN_ENV: self.token}

    def _await_ready(self, process: subprocess.Popen[str]) -> str:
        """Read the ``listening on`` line; a thread keeps draining stdout so it never blocks."""
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = ""
        if not line.startswith(READY_PREFIX):
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"simulator did not start (got {line!r}); log tail:\n{tail}")
        return line.removeprefix(READY_PREFIX).strip()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; ``returncode`` tells how it ended."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        self.returncode = process.returncode

    def restart(self) -> Self:
        """Stop, then start again on the same port and data dir."""
        self.stop()
        return self.start()

    def knob(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``/_sim/<path>`` and return its ``data``; 4xx/5xx raise ``requests.HTTPError``."""
        response = requests.request(
            method.upper(),
            f"{self.url}/_sim/{path.lstrip('/')}",
            json=json,
            timeout=KNOB_TIMEOUT,
        )
        response.raise_for_status()
        return response.json()["data"]

    def leave_free_slots(self, free: int) -> None:
        """Set the licence's slot total so that exactly ``free`` slots are left."""
        used = self.knob("GET", "state")["slots"]["used"]
        self.knob("POST", "slots", {"total": used + free})

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SimulatorProcess {self.url or 'not started'} data_dir={self.data_dir}>"


def _options(
    networks: Sequence[str],
    slots: int | None,
    seed: int | None,
    endpoint_host: str | None,
    version: str | None,
) -> list[str]:
    options = [f"--network={network}" for network in networks]
    named = {"slots": slots, "seed": seed, "endpoint-host": endpoint_host, "version": version}
    options += [f"--{name}={value}" for name, value in named.items() if value is not None]
    return options


def _drain(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")
