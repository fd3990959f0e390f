"""Mail backends that fail the way mail servers do, for the delivery tests."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class DisconnectingBackend(BaseEmailBackend):
    """A server that drops the connection: transient, so retried. Counts its attempts."""

    calls = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        type(self).calls += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RejectingBackend(BaseEmailBackend):
    """A server that refuses the recipient for good (550): permanent, not retried."""

    calls = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        type(self).calls += 1
        recipients = {m.to[0]: (550, b"5.1.1 No such user") for m in email_messages}
        raise smtplib.SMTPRecipientsRefused(recipients)
