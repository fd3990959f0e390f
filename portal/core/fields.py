from typing import Any

from django.db import models

from portal.core import crypto


class EncryptedTextField(models.TextField):
    """A text column stored as Fernet ciphertext; Python code only ever sees the plaintext.

    Not searchable or orderable by value, by design.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
