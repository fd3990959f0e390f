"""``send``: the one way the portal sends its own emails, from templates.

Each email is ``notifications/<template>/subject.txt``, ``body.txt`` and ``body.html`` (Django
templates; HTML autoescaped, text not), rendered with ``branding`` in the context, and goes
through ``EMAIL_BACKEND`` (the queued backend) with the headers that label its record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string

from portal.core.models import Branding
from portal.notifications.payload import KIND_HEADER, OBJECT_HEADER, ONCE_HEADER

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_COLOUR = "#1f5f99"


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
    context = {"branding": branding, "colour": _colour(branding), **context}
    subject = " ".join(render_to_string(f"notifications/{template}/subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/{template}/body.txt", context),
        from_email=_sender(branding),
        to=[to] if isinstance(to, str) else list(to),
        reply_to=[branding.support_email] if branding.support_email else [],
        headers=_labels(kind, obj, once_key),
    )
    message.attach_alternative(
        render_to_string(f"notifications/{template}/body.html", context), "text/html"
    )
    return message.send() == 1


def _colour(branding: Branding) -> str:
    """The shop's colour for inline styles, only ever as ``#rrggbb`` (it goes into CSS)."""
    return branding.primary_colour if COLOUR.fullmatch(branding.primary_colour) else DEFAULT_COLOUR


def _sender(branding: Branding) -> str:
    """``DEFAULT_FROM_EMAIL``, shown as the shop's name unless it names itself."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return settings.DEFAULT_FROM_EMAIL if name else formataddr((branding.shop_name, address))


def _labels(kind: str, obj: models.Model | None, once_key: str | None) -> dict[str, str]:
    headers = {KIND_HEADER: kind}
    if obj is not None:
        headers[OBJECT_HEADER] = f"{obj._meta.label_lower}:{obj.pk}"
    if once_key:
        headers[ONCE_HEADER] = once_key
    return headers
