"""Two-factor authentication for staff: required before the admin when
``PORTAL_STAFF_REQUIRE_2FA`` is on, and reset by an admin (audited in the admin log)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from cryptography.fernet import Fernet
from django.contrib.admin.models import LogEntry
from django.test import Client

from portal.accounts.roles import SUPPORT
from tests.accounts.conftest import sign_in
from tests.accounts.two_factor import activate_totp, totp_code
from tests.conftest import OWNER_PASSWORD
from tests.factories import TEST_PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@pytest.fixture
def require_2fa(settings) -> None:
    settings.PORTAL_STAFF_REQUIRE_2FA = True


@pytest.mark.parametrize(("value", "expected"), [(None, "True"), ("0", "False")])
def test_the_setting_is_on_in_production_unless_turned_off(tmp_path, value, expected):
    env = {
        key: val
        for key, val in os.environ.items()
        if not key.startswith(("DJANGO_", "PORTAL_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_SECRET_KEY="x" * 60,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        PORTAL_EMBEDDED="1",
        PORTAL_BASE_URL="https://portal.example.com",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    if value is not None:
        env["PORTAL_STAFF_REQUIRE_2FA"] = value
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.PORTAL_STAFF_REQUIRE_2FA)"

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == expected


def test_the_setting_is_off_in_debug_and_documented(settings):
    assert settings.PORTAL_STAFF_REQUIRE_2FA is False
    with open("docs/configuration.md") as doc:
        assert "PORTAL_STAFF_REQUIRE_2FA" in doc.read()


@pytest.mark.usefixtures("require_2fa")
@pytest.mark.parametrize("path", ["/admin/", "/admin/provisioning/service/", "/admin/auth/user/"])
def test_staff_without_2fa_are_sent_to_set_it_up(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE


@pytest.mark.usefixtures("require_2fa")
def test_staff_set_it_up_and_then_use_the_admin(staff):
    browser = Client()
    assert sign_in(browser, staff.username, TEST_PASSWORD)["Location"] == "/admin/"
    assert browser.get("/admin/")["Location"] == ACTIVATE
    page = browser.get(ACTIVATE, follow=True).content.decode()
    assert "Staff must use two-factor authentication" in page

    activate_totp(browser, TEST_PASSWORD)

    assert browser.get("/admin/").status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_staff_with_2fa_use_the_admin_after_giving_their_code(staff):
    secret = with_totp(staff)
    browser = Client()

    response = browser.post(
        "/admin/login/", {"username": staff.username, "password": TEST_PASSWORD}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    browser.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})

    assert browser.get("/admin/").status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_customers_and_staff_signing_out_are_not_held(owner_client, admin_client):
    assert owner_client.get("/services/").status_code == 200
    assert admin_client.post("/admin/logout/").status_code == 200


def test_without_the_setting_staff_use_the_admin_without_2fa(admin_client):
    assert admin_client.get("/admin/").status_code == 200


def test_an_admin_resets_a_users_two_factor_authentication(admin_client, staff, owner):
    with_totp(owner.user)
    RecoveryCodes.activate(owner.user)

    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [owner.user.pk]},
        follow=True,
    )

    assert "Two-factor authentication reset for alice" in response.content.decode()
    assert not Authenticator.objects.filter(user=owner.user).exists()
    [entry] = LogEntry.objects.filter(object_id=str(owner.user.pk))
    assert entry.user == staff
    assert "Reset two-factor authentication" in entry.get_change_message()
    assert sign_in(Client(), "alice", OWNER_PASSWORD)["Location"] == "/services/"


def test_the_reset_is_on_the_customer_admin_too(admin_client, owner, other_customer):
    with_totp(owner.user)
    with_totp(other_customer.user)

    response = admin_client.post(
        "/admin/accounts/customer/",
        {"action": "reset_two_factor", "_selected_action": [owner.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=owner.user).exists()
    assert Authenticator.objects.filter(user=other_customer.user).exists()


def test_a_reset_of_a_user_without_2fa_changes_nothing_and_says_so(admin_client, owner):
    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [owner.user.pk]},
        follow=True,
    )

    assert "had no two-factor authentication to reset" in response.content.decode()
    assert not LogEntry.objects.exists()


def test_support_staff_cannot_reset(owner, django_user_model):
    with_totp(owner.user)
    support = StaffFactory(is_superuser=False)
    support.groups.add(django_user_model.groups.field.related_model.objects.get(name=SUPPORT))
    client = Client()
    client.force_login(support)

    changelist = client.get("/admin/accounts/customer/").content.decode()
    client.post(
        "/admin/accounts/customer/",
        {"action": "reset_two_factor", "_selected_action": [owner.pk]},
    )

    assert "reset_two_factor" not in changelist
    assert Authenticator.objects.filter(user=owner.user).exists()


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner.user)
    return client
