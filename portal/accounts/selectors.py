"""Read queries of accounts."""

from __future__ import annotations

import hashlib

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from portal.accounts.models import ApiToken

#: The authenticators that count as two-factor authentication (recovery codes alone do not).
MAIN_TYPES = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_of(token: str) -> ApiToken | None:
    """The token row ``token`` (as sent) is the secret of, revoked or not, with its user."""
    return ApiToken.objects.select_related("user").filter(secret_hash=api_token_hash(token)).first()


def user_api_tokens(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """Every token of ``user``, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user_id=user.pk)


def staff_lacks_two_factor(user: AbstractBaseUser) -> bool:
    """Staff without an authenticator while ``PORTAL_STAFF_REQUIRE_2FA`` is on: kept from the
    admin, from making API tokens and from the staff API."""
    return (
        settings.PORTAL_STAFF_REQUIRE_2FA and user.is_staff and not is_mfa_enabled(user, MAIN_TYPES)
    )
