"""Users make API tokens on /account/api-tokens/ (shown once), revoke them there or in the admin."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from portal.accounts.models import ApiToken

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

PAGE = "/account/api-tokens/"


def api_status(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/services/").status_code


def make_token(client: Client, name: str = "backup script", **fields) -> tuple[str, str]:
    response = client.post(PAGE, {"name": name, "expires_in_days": "30", **fields})
    assert response.status_code == 200
    page = response.content.decode()
    token = re.search(r"<code>(vpt_[^<]+)</code>", page).group(1)
    return token, page


def test_a_token_is_shown_once_and_works_on_the_api(signed_in):
    token, page = make_token(signed_in)

    assert "shown only this once" in page
    assert "no-store" in signed_in.get(PAGE)["Cache-Control"]
    assert token not in signed_in.get(PAGE).content.decode()
    row = ApiToken.objects.get()
    assert row.prefix in signed_in.get(PAGE).content.decode()
    assert row.expires_at is not None
    assert api_status(token) == 200


def test_a_revoked_token_stops_working(signed_in):
    token, _ = make_token(signed_in)
    row = ApiToken.objects.get()

    response = signed_in.post(f"{PAGE}revoke/", {"token": row.pk})

    assert response.status_code == 302
    assert api_status(token) == 401
    assert "Revoked" in signed_in.get(PAGE).content.decode()


def test_another_users_token_cannot_be_revoked(signed_in, other_customer):
    other = Client()
    other.force_login(other_customer.user)
    token, _ = make_token(other)

    response = signed_in.post(f"{PAGE}revoke/", {"token": ApiToken.objects.get().pk})

    assert response.status_code == 404
    assert api_status(token) == 200


def test_anonymous_is_sent_to_sign_in(client):
    response = client.post(PAGE, {"name": "x", "expires_in_days": ""})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert ApiToken.objects.count() == 0


def test_making_and_revoking_need_a_post_with_csrf(customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    signed = Client()
    signed.force_login(customer.user)
    token, _ = make_token(signed)
    pk = ApiToken.objects.get().pk

    assert browser.get(f"{PAGE}revoke/").status_code == 302
    assert browser.post(f"{PAGE}revoke/", {"token": pk}).status_code == 403
    assert browser.post(PAGE, {"name": "x"}).status_code == 403
    assert api_status(token) == 200


def test_making_tokens_is_rate_limited(signed_in, settings):
    settings.API_TOKEN_CREATE_LIMIT = 2
    make_token(signed_in)
    make_token(signed_in)

    response = signed_in.post(PAGE, {"name": "third", "expires_in_days": ""})

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert ApiToken.objects.count() == 2


def test_staff_need_two_factor_authentication_to_make_a_token(client, staff, settings):
    settings.PORTAL_STAFF_REQUIRE_2FA = True
    client.force_login(staff)

    response = client.post(PAGE, {"name": "ops", "expires_in_days": "30"})

    assert "Staff need two-factor authentication" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_staff_make_tokens_on_the_same_page(client, staff):
    client.force_login(staff)

    token, _ = make_token(client, name="ops")

    assert ApiToken.objects.get().user == staff
    assert api_status(token) == 403  # a staff token is no customer's


def test_the_admin_lists_tokens_and_revokes_them(admin_client, signed_in):
    token, _ = make_token(signed_in)
    row = ApiToken.objects.get()

    listing = admin_client.get("/admin/accounts/apitoken/")
    assert row.prefix in listing.content.decode()
    assert token not in listing.content.decode()
    admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}
    )

    assert api_status(token) == 401
