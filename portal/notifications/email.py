"""``send``: the one way the portal sends its own emails, from templates.

Each email is ``notifications/<template>/subject.txt``, ``body.txt`` and ``body.html`` (Django
templates; HTML autoescaped, text not), rendered with ``branding`` in the context, and goes
through ``EMAIL_BACKEND`` (the queued backend) with the headers that label its record. Its From,
Reply-To and colour are the branding's, as in allauth's mails (``portal.accounts.adapter``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string

from portal.core.models import Branding
from portal.notifications.payload import KIND_HEADER, OBJECT_HEADER, ONCE_HEADER


def send(
    *,
    kind: str,
    to: str | Sequence[str],
    template: str,
    context: Mapping[str, Any],
    obj: models.Model | None = None,
    once_key: str | None = None,
) -> bool:
    """Render and send one email; False when ``once_key`` was used before (nothing sent).

    ``kind`` and ``obj`` label the record (the admin's filters, "emails about this invoice");
    ``once_key`` makes it go out once ever, however often this is called.
    """
    branding = Branding.current()
    context = {"branding": branding, "colour": branding.email_colour, **context}
    subject = " ".join(render_to_string(f"notifications/{template}/subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/{template}/body.txt", context),
        from_email=branding.email_sender,
        to=[to] if isinstance(to, str) else list(to),
        reply_to=branding.email_reply_to,
        headers=_labels(kind, obj, once_key),
    )
    message.attach_alternative(
        render_to_string(f"notifications/{template}/body.html", context), "text/html"
    )
    return message.send() == 1


def _labels(kind: str, obj: models.Model | None, once_key: str | None) -> dict[str, str]:
    headers = {KIND_HEADER: kind}
    if obj is not None:
        headers[OBJECT_HEADER] = f"{obj._meta.label_lower}:{obj.pk}"
    if once_key:
        headers[ONCE_HEADER] = once_key
    return headers
