"""Encryption at rest for secrets kept in the database (panel tokens, licence keys, API keys).

``FIELD_ENCRYPTION_KEYS`` holds one or more Fernet keys: the first encrypts, every key decrypts,
so a key is rotated by putting a new one first; ``rotate()`` re-encrypts a value under it.
In DEBUG without keys, one is derived from SECRET_KEY so that a fresh checkout just runs.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """Stored ciphertext cannot be read with any configured key."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        digest = hashlib.sha256(f"field-encryption:{secret_key}".encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds an invalid Fernet key.") from exc


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with the configured keys") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first (newest) key."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with the configured keys") from exc


def is_under_first_key(ciphertext: str) -> bool:
    """Whether the value is encrypted under the first key already (nothing to rotate)."""
    first = tuple(settings.FIELD_ENCRYPTION_KEYS[:1])
    try:
        _fernet_for(first, settings.SECRET_KEY).decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True
