"""gunicorn with portal/gunicorn_conf.py, production settings, static files collected and served
by whitenoise: what a web machine runs."""

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portal.test_settings import PRODUCTION_ENV, REPO_ROOT
from tests.workers import process_stop

HOST = "portal.example.com"
# Production settings on the embedded storage (SQLite, file cache, filesystem broker under the
# test's own var/), so no PostgreSQL or Redis is needed for a web process to answer.
WEB_ENV = {
    **{k: v for k, v in PRODUCTION_ENV.items() if k not in ("DATABASE_URL", "REDIS_URL")},
    "PORTAL_EMBEDDED": "1",
    "GUNICORN_BIND": "127.0.0.1:0",
    "WEB_CONCURRENCY": "1",
    "GUNICORN_THREADS": "2",
    "PORTAL_TRUSTED_PROXY_COUNT": "1",  # the proxy in front sets X-Request-ID
}


def _environment(var_dir: Path) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "FIELD_ENCRYPTION", "LOG_", "GUNICORN_")
        )
    }
    return {**inherited, "PORTAL_VAR_DIR": str(var_dir), **WEB_ENV}


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[tuple[int, Path, Path]]:
    """collectstatic, then gunicorn on a free loopback port; yields (port, var dir, its log)."""
    var_dir = tmp_path_factory.mktemp("web-var")
    env = _environment(var_dir)
    # Swagger UI's large vendored bundle is left out: compressing it would double the test's time.
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-i", "drf_spectacular*"]
    collected = subprocess.run(
        collect, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert collected.returncode == 0, collected.stderr[-3000:]
    log_path = var_dir / "gunicorn.log"
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:portal.gunicorn_conf",
            "--no-control-socket"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield _listening_port(process, log_path), var_dir, log_path
    finally:
        process_stop(process)


def _listening_port(process: subprocess.Popen, log_path: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if (found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log)) and (
            "Booting worker" in log
        ):
            return int(found.group(1))
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"gunicorn not listening after {timeout}s:\n{log_path.read_text()}")


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """A GET as the TLS-terminating proxy in front sends it (from loopback, which gunicorn's
    FORWARDED_ALLOW_IPS trusts by default)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request(
        "GET", path, headers={"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})}
    )
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_gunicorn_answers_healthz_and_logs_the_request_as_json(web):
    port, _, log_path = web

    response = _get(port, "/healthz", {"X-Request-ID": "lb-check-0001"})

    assert response.status == 200
    assert json.loads(response.body) == {"status": "ok"}
    assert response.headers["X-Request-ID"] == "lb-check-0001"
    deadline = time.monotonic() + 10
    while '"GET /healthz 200"' not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line[:1] == "{"]
    [access] = [line for line in lines if line["message"] == "GET /healthz 200"]
    assert access["logger"] == "gunicorn.access"
    assert access["request_id"] == "lb-check-0001"
    assert access["http"]["status"] == 200


def test_plain_http_from_the_proxy_is_redirected_to_https(web):
    port, _, _ = web
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request("GET", "/healthz", headers={"Host": HOST})

    response = connection.getresponse()

    assert response.status == 301
    assert response.headers["Location"] == f"https://{HOST}/healthz"


def test_whitenoise_serves_the_collected_static_file_under_its_hashed_name(web):
    port, var_dir, _ = web
    manifest = json.loads((var_dir / "staticfiles" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["portal/portal.css"]
    assert hashed != "portal/portal.css"

    response = _get(port, f"/static/{hashed}")
    compressed = _get(port, f"/static/{hashed}", {"Accept-Encoding": "gzip"})

    assert response.status == 200
    assert response.body == (REPO_ROOT / "static" / "portal" / "portal.css").read_bytes()
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=315360000" in response.headers["Cache-Control"]  # ten years, as the docs say
    assert response.headers["Content-Type"].startswith("text/css")
    assert compressed.headers["Content-Encoding"] == "gzip"


def test_the_access_log_masks_password_reset_and_email_confirmation_keys(web):
    port, _, log_path = web
    reset_key, confirm_key = "cz7q-d41d8cd98f00b204e9800998ecf8", "MQ:1tZk3q:abcDEFghiJKL"

    _get(port, f"/accounts/password/reset/key/3k-{reset_key}/")
    _get(port, f"/accounts/confirm-email/{confirm_key}/")

    deadline = time.monotonic() + 20
    access_line = '"path": "/accounts/confirm-email/***/"'  # django.request's line comes first
    while access_line not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = log_path.read_text()
    assert reset_key not in log
    assert confirm_key not in log
    access = [json.loads(line) for line in log.splitlines() if '"gunicorn.access"' in line]
    paths = {line["http"]["path"] for line in access}
    assert {"/accounts/password/reset/key/***/", "/accounts/confirm-email/***/"} <= paths
