"""Email settings read in fresh processes: files under var/mail/ in DEBUG without a mail server,
SMTP otherwise; production refuses to start without PORTAL_BASE_URL, in one line."""

import json
import sys

import pytest

from tests.portal.test_settings import PRODUCTION_ENV, _run

PRINT_EMAIL = (
    "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
    "'queued': settings.EMAIL_BACKEND, 'delivery': settings.NOTIFICATIONS_DELIVERY_BACKEND,"
    "'files': settings.EMAIL_FILE_PATH, 'base': settings.PORTAL_BASE_URL}))"
)


def email_settings(env: dict[str, str], tmp_path) -> dict[str, str]:
    result = _run([sys.executable, "-c", PRINT_EMAIL], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_without_a_mail_server_writes_mail_to_files_under_var(tmp_path):
    chosen = email_settings({"DJANGO_DEBUG": "1"}, tmp_path)

    assert chosen == {
        "queued": "portal.notifications.backends.QueuedEmailBackend",
        "delivery": "django.core.mail.backends.filebased.EmailBackend",
        "files": str(tmp_path / "mail"),
        "base": "http://127.0.0.1:8000",
    }


@pytest.mark.parametrize(
    "env", [PRODUCTION_ENV, {"DJANGO_DEBUG": "1", "EMAIL_HOST": "smtp.example.com"}]
)
def test_production_or_a_configured_mail_server_delivers_by_smtp(env, tmp_path):
    chosen = email_settings(env, tmp_path)

    assert chosen["queued"] == "portal.notifications.backends.QueuedEmailBackend"
    assert chosen["delivery"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL"),
        ({"PORTAL_BASE_URL": "portal.example.com"}, "PORTAL_BASE_URL"),
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_TLS"),
        ({"NOTIFICATIONS_RETRY_MAX_SECONDS": "7200"}, "NOTIFICATIONS_RETRY_MAX_SECONDS"),
    ],
)
def test_a_missing_or_wrong_email_setting_stops_the_start_naming_it(env, named, tmp_path):
    result = _run([sys.executable, "manage.py", "check"], {**PRODUCTION_ENV, **env}, tmp_path)

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Configuration error: {named} ")
