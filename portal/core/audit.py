"""The admin's history (``django.contrib.admin``'s LogEntry), written for changes made outside
the admin — the staff API — so that an object's History names who changed it, wherever."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models import Model

__all__ = ["ADDITION", "CHANGE", "DELETION", "admin_log"]


def admin_log(*, actor: Any, obj: Model, flag: int, message: str | list[Any]) -> None:
    """One history row of ``obj`` by ``actor`` (``ADDITION``, ``CHANGE`` or ``DELETION``, the
    latter written before the row is deleted). ``message`` is a sentence, or the admin's
    structured change message (``construct_change_message``)."""
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[obj],
        action_flag=flag,
        change_message=message,
        single_object=True,
    )
