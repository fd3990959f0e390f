"""The staff API asks for two-factor authentication on every call while
``PORTAL_STAFF_REQUIRE_2FA`` is on — not only when the token was made — and an admin's
two-factor reset revokes the user's tokens."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.test import APIClient

from portal.accounts import services as accounts
from portal.accounts.models import ApiToken
from portal.accounts.roles import SUPPORT
from tests.api.staff_helpers import staff_with_role
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/staff/services/"


@pytest.fixture
def require_2fa(settings) -> None:
    settings.PORTAL_STAFF_REQUIRE_2FA = True


def with_totp(user) -> None:
    TOTP.activate(user, generate_totp_secret())


def api_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.usefixtures("require_2fa")
def test_a_customer_made_staff_later_is_refused_until_they_set_up_2fa(owner, token_for):
    api = api_with(token_for(owner.user))
    owner.user.is_staff = True
    owner.user.is_superuser = True
    owner.user.save()

    refused = api.get(SERVICES)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "two_factor_required"
    assert "two-factor authentication" in refused.json()["error"]["message"]
    with_totp(owner.user)
    assert api.get(SERVICES).status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_staff_whose_authenticators_are_gone_are_refused(staff, token_for):
    with_totp(staff)
    api = api_with(token_for(staff))
    assert api.get(SERVICES).status_code == 200

    staff.authenticator_set.all().delete()

    assert api.get(SERVICES).status_code == 403


def test_without_the_setting_staff_without_2fa_use_the_staff_api(staff, token_for):
    assert api_with(token_for(staff)).get(SERVICES).status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_the_customer_api_does_not_ask_customers_for_2fa(owner, token_for):
    assert api_with(token_for(owner.user)).get("/api/v1/services/").status_code == 200


def test_an_admins_two_factor_reset_revokes_the_users_tokens(admin_client, staff, token_for):
    colleague = StaffFactory()
    with_totp(colleague)
    api = api_with(token_for(colleague))
    assert api.get(SERVICES).status_code == 200

    page = admin_client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [colleague.pk]},
        follow=True,
    )

    assert "their API tokens are revoked" in page.content.decode()
    assert api.get(SERVICES).status_code == 401
    assert not ApiToken.objects.filter(user=colleague, revoked_at__isnull=True).exists()


def test_a_reset_of_nothing_keeps_the_tokens(staff, owner, token_for):
    api = api_with(token_for(owner.user))

    assert accounts.user_two_factor_reset(user=owner.user, actor=staff) == 0

    assert api.get("/api/v1/services/").status_code == 200


def test_a_customer_token_on_a_staff_endpoint_is_told_it_is_for_staff(owner_api):
    error = owner_api.get(SERVICES).json()["error"]

    assert error == {
        "code": "permission_denied", "message": "This endpoint is for staff.", "fields": {}
    }  # fmt: skip


def test_staff_without_the_permission_are_told_their_role_does_not_allow_it(client_for):
    error = client_for(staff_with_role(SUPPORT)).get("/api/v1/staff/plans/").json()["error"]

    assert error["message"] == "Your staff role does not allow this."
