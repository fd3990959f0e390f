"""Read queries of accounts."""

from __future__ import annotations

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from portal.accounts.models import ApiToken


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_of(token: str) -> ApiToken | None:
    """The token row ``token`` (as sent) is the secret of, revoked or not, with its user."""
    return ApiToken.objects.select_related("user").filter(secret_hash=api_token_hash(token)).first()


def user_api_tokens(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """Every token of ``user``, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user_id=user.pk)
