"""Make request and response data safe to log and to store in the module log.

Secrets are masked by key (``password``, ``private_key``, ...) and inside text (WireGuard
``PrivateKey = ...`` lines, ``Bearer`` headers, one-time-link URLs, PEM private keys); long strings
such as configs, profiles and QR images are replaced by their length.

A literal secret (the API token) is masked wherever it appears only from ``MIN_SECRET_LENGTH``
characters on: replacing a short one inside text mangles ordinary words (a one-character token
turned "Connection refused" into "Connec***ion refused"), and a real panel token is far longer.
Below that length it is masked only where it is a whole value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

MASK = "***"
MIN_SECRET_LENGTH: Final = 16
MAX_STRING = 200
MAX_ITEMS = 50

_SENSITIVE_KEYS = frozenset(
    {
        "password",
        "private_key",
        "privatekey",
        "preshared_key",
        "presharedkey",
        "token",
        "api_token",
        "secret",
        "client_secret",
        "authorization",
        "cookie",
        "access_hash",
        "api_key",
        "apikey",
        "otl",
        "otl_url",
        "key",
    }
)
_SENSITIVE_WORDS = ("password", "secret", "token", "private")

_TEXT_RULES = (
    (re.compile(r"(?im)^(\s*(?:PrivateKey|PresharedKey)\s*=\s*)\S+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)\b(Bearer\s+)[\w\-.~+/=]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)(/otl/)[0-9a-z_\-]+"), rf"\g<1>{MASK}"),
    (
        re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S),
        f"<private key {MASK}>",
    ),
)


def is_sensitive_key(key: object) -> bool:
    name = str(key).lower().replace("-", "_")
    if name in _SENSITIVE_KEYS:
        return True
    return any(word in name for word in _SENSITIVE_WORDS)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask secrets inside free text, including any literal value passed in ``secrets``."""
    for secret in secrets:
        text = _mask_literal(text, secret)
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    return text


def _mask_literal(text: str, secret: str) -> str:
    if not secret:
        return text
    if text.strip() == secret:
        return MASK
    if len(secret) < MIN_SECRET_LENGTH:
        return text
    return text.replace(secret, MASK)


def redact(
    value: Any,
    *,
    secrets: Iterable[str] = (),
    max_string: int = MAX_STRING,
    max_items: int = MAX_ITEMS,
) -> Any:
    """Return a redacted deep copy of a JSON-like value; the input is never modified.

    Literal values in ``secrets`` (such as the API token) are masked wherever they appear, or only
    as whole values when shorter than ``MIN_SECRET_LENGTH``.
    """
    secrets = tuple(secrets)
    limits = {"secrets": secrets, "max_string": max_string, "max_items": max_items}
    if isinstance(value, Mapping):
        return {
            str(key): MASK if is_sensitive_key(key) else redact(item, **limits)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        items = [redact(item, **limits) for item in value[:max_items]]
        if len(value) > max_items:
            items.append(f"<{len(value) - max_items} more items>")
        return items
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return _redact_string(value, secrets, max_string)
    return value


def _redact_string(text: str, secrets: tuple[str, ...], max_string: int) -> str:
    if len(text) > max_string:
        return f"<{len(text)} chars>"
    return scrub_text(text, secrets)


def mask_token(token: str) -> str:
    """Show just enough of a token to recognise it (``abcd…``); short tokens are fully masked."""
    if len(token) < MIN_SECRET_LENGTH:
        return MASK
    return f"{token[:4]}…"
