"""``EMAIL_BACKEND``: every message the portal sends is recorded here and delivered by a worker."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from portal.notifications import services


class QueuedEmailBackend(BaseEmailBackend):
    """Records each message (``EmailRecord``, queued) and sends its delivery task after commit.

    Returns how many were recorded: a message whose once key was recorded before is not.
    Nothing here talks to a mail server, so sending never fails or slows a request; a database
    error does fail it, as any write would (unless ``fail_silently``).
    """

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        recorded = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                if services.email_record(message=message) is not None:
                    recorded += 1
            except Exception:
                if not self.fail_silently:
                    raise
        return recorded
