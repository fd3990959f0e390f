"""Waiting for what a real worker does in its own process."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings

from portal.notifications.models import EmailRecord


def wait_for_email(timeout: float = 30, **lookup: object) -> EmailRecord:
    """The one record matching ``lookup`` once it is no longer queued or being sent."""
    deadline = time.monotonic() + timeout
    while True:
        record = EmailRecord.objects.filter(**lookup).first()
        if record is not None and record.status in ("sent", "failed"):
            return record
        if time.monotonic() > deadline:
            state = f"{record.status}: {record.last_error}" if record else "not recorded"
            raise AssertionError(f"email {lookup} still {state}")
        time.sleep(0.1)


def wait_until_no_email_is_in_flight(timeout: float = 30) -> None:
    """Every recorded message sent or given up: none is left for the worker to deliver after
    the test (its teardown empties the tables under it)."""
    deadline = time.monotonic() + timeout
    in_flight = EmailRecord.objects.filter(status__in=("queued", "sending"))
    while in_flight.exists():
        if time.monotonic() > deadline:
            kinds = sorted(in_flight.values_list("kind", flat=True))
            raise AssertionError(f"emails still in flight: {kinds}")
        time.sleep(0.1)


def mail_files_with(text: str) -> list[str]:
    """The messages the file backend wrote (``EMAIL_FILE_PATH``) that contain ``text``."""
    folder = Path(settings.EMAIL_FILE_PATH)
    files = sorted(folder.glob("*.log")) if folder.is_dir() else []
    return [content for f in files if text in (content := f.read_text(errors="replace"))]
