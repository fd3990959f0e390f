"""Re-encrypting every stored secret under the first key of ``FIELD_ENCRYPTION_KEYS``.

Once it has run (after the new key was put first everywhere), the old key can leave the list.
The secrets are every ``EncryptedTextField`` of every model, and the two-factor secrets allauth
keeps in ``Authenticator.data``, which the portal's MFA adapter encrypts with the same keys.
Rows are locked and rewritten in batches, in primary-key order; a value already under the first
key is left as it is, so a second run changes nothing.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from portal.core import crypto
from portal.core.fields import EncryptedTextField

# The encrypted values allauth's TOTP and recovery-code authenticators keep in their data.
AUTHENTICATOR_SECRETS = ("secret", "seed")
AUTHENTICATOR_SECRET_LISTS = ("migrated_codes",)


@dataclass
class RotationCount:
    """What one rotation did to one column: each stored value is counted once."""

    label: str
    rotated: int = 0
    current: int = 0
    unreadable: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def encryption_keys_rotate(*, batch_size: int = 200) -> list[RotationCount]:
    counts = [
        _column_rotate(model, field, batch_size=batch_size) for model, field in _encrypted_columns()
    ]
    counts.append(_authenticators_rotate(batch_size=batch_size))
    return counts


def _encrypted_columns() -> Iterator[tuple[type[models.Model], models.Field]]:
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def _rotated(ciphertext: str, count: RotationCount) -> str:
    """The value under the first key, counted as rotated, current or (no key reads it) unreadable;
    an unreadable one is kept as it is."""
    if crypto.is_under_first_key(ciphertext):
        count.add("current")
        return ciphertext
    try:
        rotated = crypto.rotate(ciphertext)
    except crypto.DecryptionError:
        count.add("unreadable")
        return ciphertext
    count.add("rotated")
    return rotated


def _in_batches(
    queryset: models.QuerySet, batch_size: int, rewrite: Callable[[list], None]
) -> None:
    """Rewrite the rows in pk order, each batch locked in its own transaction."""
    last_pk = None
    while True:
        with transaction.atomic():
            page = queryset.select_for_update().order_by("pk")
            if last_pk is not None:
                page = page.filter(pk__gt=last_pk)
            rows = list(page[:batch_size])
            rewrite(rows)
        if len(rows) < batch_size:
            return
        last_pk = rows[-1][0]


def _column_rotate(
    model: type[models.Model], field: models.Field, *, batch_size: int
) -> RotationCount:
    count = RotationCount(f"{model._meta.label}.{field.name}")
    manager = model._base_manager
    # Cast to a plain text column: the ciphertext, not what the field would decrypt it to.
    stored = (
        manager.annotate(ciphertext=Cast(field.attname, output_field=models.TextField()))
        .exclude(**{f"{field.attname}__isnull": True})
        .values_list("pk", "ciphertext")
    )

    def rewrite(rows: list[tuple[object, str]]) -> None:
        for pk, ciphertext in rows:
            rotated = _rotated(ciphertext, count) if ciphertext else ciphertext
            if rotated != ciphertext:
                value = models.Value(rotated, output_field=models.TextField())
                manager.filter(pk=pk).update(**{field.attname: value})

    _in_batches(stored, batch_size, rewrite)
    return count


def _authenticators_rotate(*, batch_size: int) -> RotationCount:
    from allauth.mfa.models import Authenticator

    count = RotationCount("mfa.Authenticator.data")

    def rewrite(rows: list[tuple[object, dict]]) -> None:
        for pk, data in rows:
            rotated = _authenticator_data_rotated(data or {}, count)
            if rotated != data:
                Authenticator.objects.filter(pk=pk).update(data=rotated)

    _in_batches(Authenticator.objects.values_list("pk", "data"), batch_size, rewrite)
    return count


def _authenticator_data_rotated(data: dict, count: RotationCount) -> dict:
    rotated = dict(data)
    for key in AUTHENTICATOR_SECRETS:
        if isinstance(data.get(key), str):
            rotated[key] = _rotated(data[key], count)
    for key in AUTHENTICATOR_SECRET_LISTS:
        if isinstance(data.get(key), list):
            rotated[key] = [_rotated(item, count) for item in data[key]]
    return rotated
