"""Helpers of the two-factor tests: codes computed from a secret with allauth's own TOTP code."""

from __future__ import annotations

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.test import Client

from portal.core import crypto


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now; waits out the last seconds of a period, so the
    code is still the current one when the server checks it."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def wrong_code(secret: str) -> str:
    return f"{(int(totp_code(secret)) + 1) % 10**6:06d}"


def activate_totp(client: Client, password: str) -> str:
    """Turn on TOTP through the pages as the signed-in user of ``client`` (who confirms their
    ``password`` first, as allauth asks); returns the secret."""
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/reauthenticate/")
    confirmed = client.post(page["Location"], {"password": password})
    assert confirmed["Location"] == "/accounts/2fa/totp/activate/", confirmed
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200, page
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response
    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    return secret


def recovery_codes(user) -> list[str]:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()


def stored_secret(user) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return crypto.decrypt(authenticator.data["secret"])
