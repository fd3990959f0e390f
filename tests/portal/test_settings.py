"""The settings module read in fresh processes, with exactly the environment each mode gives it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
    "FIELD_ENCRYPTION_KEYS": "uAgxr9lf0ZMoVfZzZpJb6xhU7SGh8xT6r9yFvXUCyE0=",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PORTAL_BASE_URL": "https://portal.example.com",
}
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
    "'db': settings.DATABASES['default']['ENGINE'], 'cache': settings.CACHES['default']['BACKEND'],"
    "'broker': settings.CELERY_BROKER_URL, 'backend': settings.CELERY_RESULT_BACKEND}))"
)


def _run(argv: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "FIELD_ENCRYPTION"))
    }
    clean_env.update(
        {"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_VAR_DIR": str(tmp_path), **env}
    )
    return subprocess.run(
        argv, cwd=REPO_ROOT, env=clean_env, capture_output=True, text=True, timeout=60, check=False
    )


def _settings_in(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    result = _run([sys.executable, "-c", PRINT_SETTINGS], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_mode_uses_sqlite_file_cache_and_filesystem_broker(tmp_path):
    chosen = _settings_in({"DJANGO_DEBUG": "1"}, tmp_path)

    assert chosen["db"] == "django.db.backends.sqlite3"
    assert chosen["cache"].endswith("FileBasedCache")
    assert chosen["broker"] == "filesystem://localhost/"
    assert chosen["backend"] == f"file://{tmp_path / 'celery-results'}"


def test_database_and_redis_urls_switch_to_postgresql_and_redis(tmp_path):
    chosen = _settings_in(
        {
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"],
            "REDIS_URL": PRODUCTION_ENV["REDIS_URL"],
        },
        tmp_path,
    )

    assert chosen["db"] == "django.db.backends.postgresql"
    assert chosen["cache"] == "django_redis.cache.RedisCache"
    assert chosen["broker"] == chosen["backend"] == PRODUCTION_ENV["REDIS_URL"]


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

    result = _run([sys.executable, "-c", PRINT_SETTINGS], env, tmp_path)

    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_without_django_debug_the_settings_are_production_settings(tmp_path):
    result = _run([sys.executable, "-c", PRINT_SETTINGS], {}, tmp_path)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_deploy_check_is_clean_in_production_settings(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        PRODUCTION_ENV,
        tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


ENTRY_POINTS = {
    "manage.py": [sys.executable, "manage.py", "check"],
    "celery": [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo"],
}


def _without(*names: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION_ENV.items() if key not in names}


def _only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_missing_secret_stops_each_entry_point_with_one_line_naming_it(tmp_path, entry_point):
    result = _run(ENTRY_POINTS[entry_point], _without("DJANGO_SECRET_KEY"), tmp_path)

    assert result.returncode == 2
    assert _only_line(result.stderr).startswith(
        "Configuration error: DJANGO_SECRET_KEY must be set"
    )


def test_a_missing_secret_stops_gunicorn_with_one_line_naming_it(tmp_path):
    gunicorn = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "portal.wsgi"]

    result = _run(gunicorn, _without("DJANGO_SECRET_KEY"), tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "DJANGO_SECRET_KEY" in line]
    assert line.startswith("Configuration error: DJANGO_SECRET_KEY must be set")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_HSTS_SECONDS", "abc"),
        ("LOGIN_THROTTLE_PER_IP", "x"),
        ("PANEL_READ_TIMEOUT", "soon"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "postgress://portal:hunter2-secret@db/portal"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("LOG_LEVEL", "LOUD"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("HEALTHZ_TOKEN", "short"),
        ("METRICS_TOKEN", "short"),
        ("METRICS_ALLOWED_IPS", "10.0.0.0/8,10.0.0.0/33"),
        ("BEAT_LOCK_TTL_SECONDS", "0"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_a_malformed_value_stops_the_start_with_one_line_naming_it(tmp_path, variable, value):
    result = _run(ENTRY_POINTS["manage.py"], {**PRODUCTION_ENV, variable: value}, tmp_path)

    assert result.returncode == 2
    assert _only_line(result.stderr).startswith(f"Configuration error: {variable} ")
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    "keys", ["not-a-key", f"{PRODUCTION_ENV['FIELD_ENCRYPTION_KEYS']},not-a-key"]
)
def test_an_invalid_field_encryption_key_fails_the_deploy_check(tmp_path, keys):
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy"],
        {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": keys},
        tmp_path,
    )

    assert result.returncode == 2
    line = _only_line(result.stderr)
    assert line.startswith("Configuration error: FIELD_ENCRYPTION_KEYS ")
    assert "not-a-key" not in line


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_without_its_services_refuses_to_start(tmp_path, missing):
    result = _run(ENTRY_POINTS["manage.py"], _without(missing), tmp_path)

    assert result.returncode == 2
    line = _only_line(result.stderr)
    assert line.startswith(f"Configuration error: {missing} must be set")
    assert "PORTAL_EMBEDDED=1" in line


def test_production_runs_embedded_only_when_asked_to(tmp_path):
    env = {**_without("DATABASE_URL", "REDIS_URL"), "PORTAL_EMBEDDED": "1"}

    chosen = _settings_in(env, tmp_path)
    check = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env,
        tmp_path,
    )

    assert chosen["db"] == "django.db.backends.sqlite3"
    assert chosen["cache"].endswith("FileBasedCache")
    assert chosen["broker"] == "filesystem://localhost/"
    assert check.returncode == 0, check.stdout + check.stderr


IS_SECURE_BEHIND_FORGED_PROTO = (
    "import django; django.setup(); from django.test import RequestFactory; "
    "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
)


@pytest.mark.parametrize(("proxies", "trusted"), [("0", "False"), ("1", "True")])
def test_x_forwarded_proto_is_trusted_only_behind_a_configured_proxy(tmp_path, proxies, trusted):
    env = {**PRODUCTION_ENV, "PORTAL_TRUSTED_PROXY_COUNT": proxies}

    result = _run([sys.executable, "-c", IS_SECURE_BEHIND_FORGED_PROTO], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == trusted


def test_manage_py_reads_the_settings_module_its_settings_option_names(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "diffsettings", "--settings=tests.settings"],
        {"DJANGO_DEBUG": "1"},
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "MD5PasswordHasher" in result.stdout
