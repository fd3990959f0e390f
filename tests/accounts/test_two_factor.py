"""Optional TOTP two-factor authentication with recovery codes: set up from the client area,
asked at every sign-in (customer and admin login), wrong codes refused, recovery codes once."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from tests.accounts.conftest import sign_in, signed_in
from tests.accounts.two_factor import (
    activate_totp,
    recovery_codes,
    stored_secret,
    totp_code,
    wrong_code,
)
from tests.conftest import OWNER_PASSWORD
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

AUTHENTICATE = "/accounts/2fa/authenticate/"


@pytest.fixture
def owner_with_2fa(owner) -> str:
    """The owner with TOTP turned on through the pages; returns the secret."""
    browser = Client()
    assert sign_in(browser, "alice", OWNER_PASSWORD).status_code == 302
    return activate_totp(browser, OWNER_PASSWORD)


def test_the_two_factor_page_is_linked_from_the_client_area(owner):
    browser = Client()
    sign_in(browser, "alice", OWNER_PASSWORD)

    services = browser.get("/services/").content.decode()
    page = browser.get("/accounts/2fa/")

    assert 'href="/accounts/2fa/"' in services
    assert page.status_code == 200
    assert "Set up an authenticator app" in page.content.decode()


def test_setting_up_totp_makes_recovery_codes_and_keeps_the_secret_encrypted(owner):
    browser = Client()
    sign_in(browser, "alice", OWNER_PASSWORD)

    secret = activate_totp(browser, OWNER_PASSWORD)

    authenticator = Authenticator.objects.get(user=owner.user, type=Authenticator.Type.TOTP)
    assert secret not in str(authenticator.data)
    assert stored_secret(owner.user) == secret
    assert len(recovery_codes(owner.user)) == 10
    page = browser.get("/accounts/2fa/recovery-codes/").content.decode()
    assert recovery_codes(owner.user)[0] in page


def test_a_wrong_code_does_not_turn_totp_on(owner):
    browser = Client()
    sign_in(browser, "alice", OWNER_PASSWORD)
    browser.post("/accounts/reauthenticate/", {"password": OWNER_PASSWORD})
    browser.get("/accounts/2fa/totp/activate/")
    secret = browser.session["mfa.totp.secret"]

    response = browser.post("/accounts/2fa/totp/activate/", {"code": wrong_code(secret)})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not Authenticator.objects.filter(user=owner.user).exists()


def test_sign_in_asks_for_the_code_refuses_a_wrong_one_and_accepts_the_right_one(
    owner, owner_with_2fa
):
    browser = Client()

    response = sign_in(browser, "alice", OWNER_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE
    assert not signed_in(browser)
    assert browser.get("/services/").status_code == 302
    assert browser.get(AUTHENTICATE).status_code == 200

    wrong = browser.post(AUTHENTICATE, {"code": wrong_code(owner_with_2fa)})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    assert not signed_in(browser)

    right = browser.post(AUTHENTICATE, {"code": totp_code(owner_with_2fa)})
    assert right.status_code == 302
    assert right["Location"] == "/services/"
    assert signed_in(browser) == owner.user.pk


def test_sign_in_keeps_its_next_through_the_code(owner, owner_with_2fa):
    browser = Client()

    sign_in(browser, "alice", OWNER_PASSWORD, next="/services/7/")
    response = browser.post(AUTHENTICATE, {"code": totp_code(owner_with_2fa)})

    assert response["Location"] == "/services/7/"


def test_a_code_is_accepted_once(owner, owner_with_2fa):
    code = totp_code(owner_with_2fa)
    first = Client()
    sign_in(first, "alice", OWNER_PASSWORD)
    assert first.post(AUTHENTICATE, {"code": code}).status_code == 302

    second = Client()
    sign_in(second, "alice", OWNER_PASSWORD)
    response = second.post(AUTHENTICATE, {"code": code})

    assert "Incorrect code." in response.content.decode()
    assert not signed_in(second)


def test_a_recovery_code_works_once(owner, owner_with_2fa):
    code = recovery_codes(owner.user)[0]
    first = Client()
    sign_in(first, "alice", OWNER_PASSWORD)

    assert first.post(AUTHENTICATE, {"code": code})["Location"] == "/services/"
    assert signed_in(first) == owner.user.pk
    assert code not in recovery_codes(owner.user)

    second = Client()
    sign_in(second, "alice", OWNER_PASSWORD)
    response = second.post(AUTHENTICATE, {"code": code})
    assert "Incorrect code." in response.content.decode()
    assert not signed_in(second)


def test_wrong_codes_are_throttled(owner, owner_with_2fa):
    browser = Client()
    sign_in(browser, "alice", OWNER_PASSWORD)
    for _ in range(5):
        browser.post(AUTHENTICATE, {"code": wrong_code(owner_with_2fa)})

    response = browser.post(AUTHENTICATE, {"code": totp_code(owner_with_2fa)})

    assert "Too many failed login attempts" in response.content.decode()
    assert not signed_in(browser)


def test_turning_totp_off_removes_the_recovery_codes_too(owner, owner_with_2fa):
    browser = Client()
    sign_in(browser, "alice", OWNER_PASSWORD)
    browser.post(AUTHENTICATE, {"code": recovery_codes(owner.user)[0]})
    browser.post("/accounts/2fa/reauthenticate/", {"code": recovery_codes(owner.user)[0]})

    response = browser.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=owner.user).exists()
    assert sign_in(Client(), "alice", OWNER_PASSWORD)["Location"] == "/services/"


def test_the_admin_login_asks_staff_for_their_code(staff):
    browser = Client()
    assert sign_in(browser, staff.username, TEST_PASSWORD)["Location"] == "/admin/"
    secret = activate_totp(browser, TEST_PASSWORD)
    admin_browser = Client()

    response = admin_browser.post(
        "/admin/login/?next=/admin/",
        {"username": staff.username, "password": TEST_PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE
    assert not signed_in(admin_browser)
    assert admin_browser.get("/admin/").status_code == 302
    assert (
        "Incorrect code."
        in admin_browser.post(AUTHENTICATE, {"code": wrong_code(secret)}).content.decode()
    )
    done = admin_browser.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert done["Location"] == "/admin/"
    assert admin_browser.get("/admin/").status_code == 200
