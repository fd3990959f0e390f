"""API tokens authenticate (and only them), and every error has the one body shape."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts import services
from portal.accounts.models import ApiToken

UNKNOWN = "/api/v1/no-such-endpoint/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.django_db
def test_without_a_token_the_api_answers_401_with_the_error_body():
    response = APIClient().get(UNKNOWN)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_a_signed_in_browser_session_is_not_an_api_credential(client, owner):
    client.force_login(owner.user)

    assert_error(client.get(UNKNOWN), 401, "not_authenticated")


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer vpt_wrong", "Bearer", "Bearer a b", "Token abc"])
def test_a_wrong_or_malformed_token_is_refused(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get(UNKNOWN).status_code == 401


def test_a_valid_token_gets_past_authentication_to_the_404_body(token_for, owner):
    error = assert_error(bearer(token_for(owner.user)).get(UNKNOWN), 404, "not_found")

    assert error["fields"] == {}


def test_a_revoked_token_is_refused(token_for, owner):
    token = token_for(owner.user)
    services.api_token_revoke(token=ApiToken.objects.get(user=owner.user))

    assert_error(bearer(token).get(UNKNOWN), 401, "token_revoked")


def test_an_expired_token_is_refused(token_for, owner):
    token = token_for(owner.user, expires_at=timezone.now() + timedelta(days=1))

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert_error(bearer(token).get(UNKNOWN), 401, "token_expired")


def test_the_token_of_a_deactivated_user_is_refused(token_for, owner):
    token = token_for(owner.user)
    owner.user.is_active = False
    owner.user.save()

    assert_error(bearer(token).get(UNKNOWN), 401, "authentication_failed")


def test_only_the_hash_of_a_token_is_stored_and_its_prefix_shown(owner):
    row, token = services.api_token_create(user=owner.user, name="ci")

    assert token.startswith("vpt_")
    assert len(token) > 40
    assert token not in {row.secret_hash, row.prefix}
    assert token.startswith(row.prefix)
    assert len(row.prefix) == 12


def test_last_used_is_recorded_at_most_once_a_minute(token_for, owner):
    client = bearer(token_for(owner.user))
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        client.get(UNKNOWN)
    assert ApiToken.objects.get().last_used_at == start

    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        client.get(UNKNOWN)
    assert ApiToken.objects.get().last_used_at == start

    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(UNKNOWN)
    assert ApiToken.objects.get().last_used_at == start + timedelta(seconds=61)


def test_a_url_without_its_trailing_slash_is_told_to_add_one(token_for, owner):
    client = bearer(token_for(owner.user))

    without_slash = assert_error(client.get("/api/v1/services"), 404, "not_found")
    unknown = assert_error(client.get("/api/v1/no-such-endpoint"), 404, "not_found")

    assert without_slash["message"] == "Not found. (API URLs end with a slash: add one.)"
    assert unknown["message"] == "Not found."
