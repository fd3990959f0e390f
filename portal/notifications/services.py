"""Recording, delivering and re-sending emails: the only code that changes an EmailRecord.

The record is the outbox. Recording it sends ``notifications.deliver_email`` after the commit; a
worker claims the row with a conditional update (``queued`` → ``sending``), so a duplicate message
or a second worker does nothing, delivers through ``NOTIFICATIONS_DELIVERY_BACKEND`` and writes
the outcome. A lost task message (broker down at commit, worker killed) is the sweep's: it sends
the task again for rows overdue by ``NOTIFICATIONS_SWEEP_AFTER_SECONDS``.
"""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.core.queue import enqueue_on_commit
from portal.notifications import payload
from portal.notifications.exceptions import DeliveryRetry, PermanentFailure
from portal.notifications.models import EmailRecord, EmailStatus

logger = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver_email"
# A worker that claimed a message and neither sent it nor failed it within this long has died
# (every SMTP step times out after EMAIL_TIMEOUT): the sweep takes the message back.
SENDING_LEASE = timedelta(minutes=10)
# Retry messages carry an ETA computed from the same countdown as due_at; allow for clocks.
DUE_TOLERANCE = timedelta(seconds=2)
SWEEP_BATCH = 500
ERROR_LENGTH = 2000
ABANDONED = "The worker stopped while sending it (it may have been delivered)."

S = EmailStatus


def email_record(*, message: EmailMessage) -> EmailRecord | None:
    """Record ``message`` as queued and send its delivery task after the commit.

    None when its once key was recorded before (the message went out already, or is going).
    """
    message.message()  # refuses now, as any backend would, what no worker could send
    labels = payload.labels(message)
    try:
        with transaction.atomic():
            record = EmailRecord.objects.create(
                to=payload.recipients(message),
                subject=str(message.subject)[:255],
                kind=labels.kind[:50],
                object_type=labels.object_type[:100],
                object_id=labels.object_id[:64],
                once_key=labels.once_key,
                message=payload.pack(message),
            )
    except IntegrityError:
        if labels.once_key and EmailRecord.objects.filter(once_key=labels.once_key).exists():
            logger.info("Email %s was recorded before; not sent again", labels.once_key)
            return None
        raise
    enqueue_on_commit(DELIVER_TASK, record.pk)
    return record


def email_deliver(*, record_id: int) -> None:
    """Deliver one recorded message, once.

    Nothing happens unless the row is queued and due (a duplicate task, a sent or failed row,
    another worker's). Raises DeliveryRetry when a failed attempt is to be tried again.
    """
    record = _claim(record_id)
    if record is None:
        return
    try:
        _send(record)
    except Exception as exc:  # every failure is written on the row, with its reason
        _record_failure(record, exc)
        return
    EmailRecord.objects.filter(pk=record.pk, status=S.SENDING).update(
        status=S.SENT, sent_at=timezone.now(), last_error=""
    )


def emails_requeue_stale() -> int:
    """Send the delivery task again for messages whose task was lost; how many were re-sent.

    Queued rows overdue by ``NOTIFICATIONS_SWEEP_AFTER_SECONDS`` (each re-sent at most once per
    that period), and rows a worker claimed and never finished (it died): queued again, or
    failed when that was their last attempt.
    """
    now = timezone.now()
    overdue = now - timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    abandoned = Q(status=S.SENDING, claimed_at__lt=now - SENDING_LEASE)
    EmailRecord.objects.filter(abandoned, attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS).update(
        status=S.FAILED, last_error=ABANDONED
    )
    EmailRecord.objects.filter(abandoned).update(
        status=S.QUEUED,
        claimed_at=None,
        due_at=overdue - timedelta(seconds=1),
        last_error=ABANDONED,
    )
    stale = Q(status=S.QUEUED, due_at__lt=overdue)
    requeued = 0
    for record_id in list(
        EmailRecord.objects.filter(stale).values_list("pk", flat=True)[:SWEEP_BATCH]
    ):
        with transaction.atomic():
            if EmailRecord.objects.filter(stale, pk=record_id).update(due_at=now):
                enqueue_on_commit(DELIVER_TASK, record_id)
                requeued += 1
    if requeued:
        logger.warning("Re-sent the delivery task of %d email(s) whose task was lost", requeued)
    return requeued


def email_resend(*, record: EmailRecord) -> bool:
    """Queue a failed message again with a fresh set of attempts; False if it was not failed."""
    with transaction.atomic():
        resent = EmailRecord.objects.filter(pk=record.pk, status=S.FAILED).update(
            status=S.QUEUED, attempts=0, due_at=timezone.now(), claimed_at=None
        )
        if resent:
            enqueue_on_commit(DELIVER_TASK, record.pk)
    return bool(resent)


def retry_countdown(attempts: int) -> float:
    """Exponential backoff with jitter after ``attempts`` failed tries, capped."""
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    jittered = base * (1 + random.uniform(0, 0.25))
    return min(jittered, settings.NOTIFICATIONS_RETRY_MAX_SECONDS)


# Internals ---------------------------------------------------------------------------------------


def _claim(record_id: int) -> EmailRecord | None:
    now = timezone.now()
    claimed = EmailRecord.objects.filter(
        pk=record_id, status=S.QUEUED, due_at__lte=now + DUE_TOLERANCE
    ).update(status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return EmailRecord.objects.get(pk=record_id)


def _send(record: EmailRecord) -> None:
    message = payload.unpack(record.message)
    with get_connection(settings.NOTIFICATIONS_DELIVERY_BACKEND, fail_silently=False) as connection:
        if connection.send_messages([message]) != 1:
            raise PermanentFailure("The mail backend accepted no message (no recipients?).")


def _record_failure(record: EmailRecord, exc: Exception) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    last = _is_permanent(exc) or record.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
    if last:
        logger.error(
            "Email %s not delivered after %d attempt(s): %s", record.pk, record.attempts, reason
        )
        EmailRecord.objects.filter(pk=record.pk, status=S.SENDING).update(
            status=S.FAILED, last_error=reason
        )
        return
    countdown = retry_countdown(record.attempts)
    logger.warning(
        "Email %s attempt %d failed, retrying in %.0fs: %s",
        record.pk,
        record.attempts,
        countdown,
        reason,
    )
    EmailRecord.objects.filter(pk=record.pk, status=S.SENDING).update(
        status=S.QUEUED,
        last_error=reason,
        claimed_at=None,
        due_at=timezone.now() + timedelta(seconds=countdown),
    )
    raise DeliveryRetry(reason, countdown=countdown)


def _is_permanent(exc: Exception) -> bool:
    """A refusal by the mail server (5xx) or a message that cannot be sent; the rest is retried."""
    if isinstance(exc, PermanentFailure):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError)
    return False
