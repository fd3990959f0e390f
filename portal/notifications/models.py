"""The record of every email the portal sends: the queued backend's outbox and the admin's log."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from portal.core.fields import EncryptedTextField


class EmailStatus(models.TextChoices):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


# Kinds whose body is a key to an account (a reset or confirmation link, a sign-in code): the
# admin shows who got them and when, never their text.
SECRET_KINDS = frozenset({"password_reset", "email_verification", "login_code"})


class EmailRecord(models.Model):
    """One message: queued until a worker delivers it (``sent``) or gives up (``failed``).

    ``message`` is the whole message, encrypted (bodies carry verification and reset links);
    the other columns are what the admin lists and searches. ``due_at`` is when the next attempt
    may run (backoff); ``claimed_at`` when a worker took it for sending. ``once_key`` makes a
    message that must go out once (a service's welcome) unique.
    """

    to = models.TextField(help_text="Every recipient (to, cc, bcc), comma-separated.")
    subject = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=50, db_index=True)
    object_type = models.CharField(
        max_length=100,
        blank=True,
        help_text="The model the email is about, e.g. provisioning.service.",
    )
    object_id = models.CharField(max_length=64, blank=True)
    once_key = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message = EncryptedTextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name = "email"
        verbose_name_plural = "emails"
        indexes = [
            models.Index(fields=("status", "due_at")),
            models.Index(fields=("object_type", "object_id")),
        ]
        permissions = [("resend_emailrecord", "Can resend a failed email")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"

    @property
    def object_label(self) -> str:
        return f"{self.object_type} {self.object_id}" if self.object_type else ""

    @property
    def body_withheld(self) -> bool:
        return self.kind in SECRET_KINDS
