"""A message as the queued backend stores it, and back: JSON of an ``EmailMessage``'s parts.

The portal's own headers (``X-Portal-*``: kind, object, once key) say what a message is about;
they are read into the record's columns and never leave with the message. A message without
them (Django's password reset, allauth's) gets its kind from its subject.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from email.mime.base import MIMEBase
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives

KIND_HEADER = "X-Portal-Kind"
OBJECT_HEADER = "X-Portal-Object"
ONCE_HEADER = "X-Portal-Once"
PORTAL_HEADERS = frozenset(h.lower() for h in (KIND_HEADER, OBJECT_HEADER, ONCE_HEADER))
OTHER_KIND = "other"

# Django's and allauth's subjects (allauth adds "[site] " in front).
SUBJECT_KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"password reset", re.IGNORECASE), "password_reset"),
    (re.compile(r"confirm your e-?mail|e-?mail confirmation", re.IGNORECASE), "email_verification"),
    (re.compile(r"sign-?in code|login code", re.IGNORECASE), "login_code"),
)


@dataclass(frozen=True)
class Labels:
    """What the record's columns say about a message."""

    kind: str
    object_type: str = ""
    object_id: str = ""
    once_key: str | None = None


def labels(message: EmailMessage) -> Labels:
    headers = {name.lower(): str(value) for name, value in message.extra_headers.items()}
    kind = headers.get(KIND_HEADER.lower()) or kind_from_subject(message.subject)
    object_type, _, object_id = headers.get(OBJECT_HEADER.lower(), "").partition(":")
    return Labels(kind, object_type, object_id, headers.get(ONCE_HEADER.lower()) or None)


def kind_from_subject(subject: str) -> str:
    for pattern, kind in SUBJECT_KINDS:
        if pattern.search(subject or ""):
            return kind
    return OTHER_KIND


def recipients(message: EmailMessage) -> str:
    return ", ".join(str(address) for address in message.recipients())


def pack(message: EmailMessage) -> str:
    """The message as JSON, without the portal's headers."""
    return json.dumps(
        {
            "subject": str(message.subject),
            "body": _content(message.body),
            "from_email": message.from_email,
            "to": list(message.to),
            "cc": list(message.cc),
            "bcc": list(message.bcc),
            "reply_to": list(message.reply_to),
            "headers": {
                name: str(value)
                for name, value in message.extra_headers.items()
                if name.lower() not in PORTAL_HEADERS
            },
            "content_subtype": message.content_subtype,
            "mixed_subtype": message.mixed_subtype,
            "encoding": str(message.encoding) if message.encoding else None,
            "alternatives": [
                [_content(content), mimetype]
                for content, mimetype in getattr(message, "alternatives", [])
            ],
            "attachments": [_attachment(attachment) for attachment in message.attachments],
        }
    )


def unpack(stored: str) -> EmailMultiAlternatives:
    """The message to deliver, rebuilt from :func:`pack`'s JSON."""
    data = json.loads(stored)
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=_restore(data["body"]),
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    message.content_subtype = data["content_subtype"]
    message.mixed_subtype = data["mixed_subtype"]
    message.encoding = data["encoding"]
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(_restore(content), mimetype)
    for filename, content, mimetype in data["attachments"]:
        message.attach(filename, _restore(content), mimetype)
    return message


def text_body(stored: str) -> str:
    """The plain-text body (what the admin shows), or "" for an HTML-only message."""
    data = json.loads(stored)
    if data["content_subtype"] == "plain":
        body = _restore(data["body"])
        return body if isinstance(body, str) else ""
    return ""


def _content(content: str | bytes) -> dict[str, str]:
    if isinstance(content, bytes):
        return {"base64": base64.b64encode(content).decode("ascii")}
    return {"text": str(content)}


def _restore(content: dict[str, str]) -> str | bytes:
    if "base64" in content:
        return base64.b64decode(content["base64"])
    return content["text"]


def _attachment(attachment: Any) -> list[Any]:
    """(filename, content, mimetype); a ready MIME part is kept as its decoded payload."""
    if isinstance(attachment, MIMEBase):
        if attachment.is_multipart():
            return [None, _content(attachment.as_bytes()), "message/rfc822"]
        payload = attachment.get_payload(decode=True) or b""
        return [attachment.get_filename(), _content(payload), attachment.get_content_type()]
    filename, content, mimetype = attachment
    return [filename, _content(content), mimetype]
