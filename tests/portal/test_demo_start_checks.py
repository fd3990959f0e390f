"""`make run` says the demo is running only when it is: the web server counts as ready on a 200
from the portal's own /healthz (a simulated panel's 404 on that port is not the portal), a
--port a simulated panel uses is refused before anything starts, and a failure shows this run's
log lines only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from portal.demo.config import DemoConfig, DemoPanel
from portal.demo.supervisor import START_MARKER, ProcessFailed, Supervisor

REPO_ROOT = Path(__file__).resolve().parents[2]
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_config(var_dir: Path, *ports: int) -> DemoConfig:
    var_dir.mkdir(parents=True, exist_ok=True)
    config = DemoConfig(
        admin_username="admin", admin_password="pw-admin", customer_username="customer",
        customer_password="pw-customer", group_name="Demo VPN",
        panels=[
            DemoPanel(name=f"Panel {port}", port=port, token="t" * 32,
                      networks=["main=10.10.0.0/24:wireguard"])
            for port in ports
        ],
    )  # fmt: skip
    (var_dir / "demo.json").write_text(json.dumps(asdict(config)))
    return config


@pytest.fixture
def supervisor(tmp_path):
    running = Supervisor(tmp_path / "log")
    yield running
    running.stop_all(grace=2)


def test_another_programs_404_on_the_port_is_not_ready(supervisor, simulator):
    supervisor.start("web", SLEEP, ready_url=f"{simulator.url}/healthz", ready_marker=b'"ok"')

    with pytest.raises(ProcessFailed) as failed:
        supervisor.wait_ready(timeout=1.5)

    assert f"web did not answer {simulator.url}/healthz with 200 (last: HTTP 404)" in str(
        failed.value
    )


def test_a_200_without_the_portals_answer_is_not_ready(supervisor, simulator):
    url = f"{simulator.url}/api/v1/openapi.json"  # 200, but not the portal's health answer
    supervisor.start("web", SLEEP, ready_url=url, ready_marker=b'"status": "ok"')

    with pytest.raises(ProcessFailed, match="HTTP 200 without the expected answer"):
        supervisor.wait_ready(timeout=1.5)


def test_the_process_answering_200_with_its_marker_is_ready(supervisor, simulator):
    supervisor.start("panel", SLEEP, ready_url=f"{simulator.url}/api/v1/openapi.json",
                     ready_marker=b'"openapi"')  # fmt: skip

    supervisor.wait_ready(timeout=10)  # returns: ready


def test_a_failure_shows_only_this_runs_log_lines(tmp_path):
    say = [sys.executable, "-c", "import sys; print(sys.argv[1]); sys.exit(1)"]
    for words in ("an-earlier-run", "this-run"):
        supervisor = Supervisor(tmp_path / "log")
        process = supervisor.start("web", [*say, words], ready_url="http://127.0.0.1:9/")
        process.popen.wait(timeout=10)
        with pytest.raises(ProcessFailed) as failed:
            supervisor.wait_ready(timeout=5)
        supervisor.stop_all(grace=1)

    log = (tmp_path / "log" / "web.log").read_text()
    assert log.count(START_MARKER) == 2  # both runs' lines kept in the file
    assert "an-earlier-run" in log
    assert "web exited early:\nthis-run" in str(failed.value)
    assert "an-earlier-run" not in str(failed.value)


def test_rundemo_refuses_a_port_a_simulated_panel_uses(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _demo_config(tmp_path, 8765, 8766)

    with pytest.raises(CommandError) as refused:
        call_command("rundemo", port=8766)

    message = str(refused.value)
    assert message == (
        "Port 8766 is taken by the demo's simulated panel Panel 8766 (the panels use 8765, "
        "8766); choose another port, e.g. --port 8000."
    )
    assert not (tmp_path / "log").exists()  # nothing was started


@pytest.mark.slow
def test_rundemo_on_a_port_another_program_answers_fails_with_the_web_servers_error(
    tmp_path, simulator
):
    """The original trap: `make run PORT=<a panel's port>` with a panel already on it."""
    var_dir = tmp_path / "var"
    _demo_config(var_dir, _free_port())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_DEBUG": "1",
        "PORTAL_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    port = int(simulator.url.rsplit(":", 1)[1])

    demo = subprocess.run(
        [sys.executable, "manage.py", "rundemo", f"--port={port}"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert demo.returncode != 0
    assert "The VPN portal demo is running." not in demo.stdout
    assert "web exited early" in demo.stderr
    assert "That port is already in use" in demo.stderr
