"""The one clock that scheduling decisions read (renewals, and the dunning and reminders that
follow): ``now()`` and ``today()`` in the portal's time zone. Tests move it with time-machine,
which moves what this reads."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def today() -> date:
    """The date in ``TIME_ZONE``: a due date falls on the provider's calendar day."""
    return timezone.localdate(now())
