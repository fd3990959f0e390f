"""The REST API's only authentication: ``Authorization: Bearer <token>`` (docs/api.md).

No session authentication on the API, so a browser's cookies never authorise an API call and
there is no CSRF question. A missing header is anonymous (401 from the permission check); a
token that is unknown, revoked or expired, or whose user is inactive, is refused with 401.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from portal.accounts import services
from portal.accounts.models import ApiToken
from portal.accounts.selectors import api_token_of
from portal.core.api import throttling

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """A refused token counts against the client's address; past the ``anon`` rate every
    token from it is a 429 until the window ends (``portal.core.api.throttling``)."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != KEYWORD:
            return None
        throttling.check_auth_failures(request)
        try:
            return self._authenticate(words)
        except AuthenticationFailed:
            throttling.count_auth_failure(request)
            raise

    def _authenticate(self, words: list[bytes]) -> tuple[AbstractBaseUser, ApiToken]:
        if len(words) != 2:
            raise AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        try:
            sent = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("This token is not valid.") from None
        token = api_token_of(sent)
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("This token is not valid.")
        if token.revoked_at is not None:
            raise AuthenticationFailed("This token has been revoked.", code="token_revoked")
        if not token.is_usable_at(now):
            raise AuthenticationFailed("This token has expired.", code="token_expired")
        services.api_token_mark_used(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for :class:`BearerTokenAuthentication`."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token (vpt_…)."}
