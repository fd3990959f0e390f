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
