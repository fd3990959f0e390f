"""Where the customer login page sends each kind of user: staff to the admin, customers home."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-9"
OFF_SITE = "https://evil.example/"


@pytest.fixture
def staff(db):
    """Staff but not a superuser (here in place of the cast's ``staff``): ``is_staff`` is enough."""
    return UserFactory(username="ops", password=PASSWORD, is_staff=True)


@pytest.fixture
def customer_user(db):
    return UserFactory(username="carol", password=PASSWORD)


def sign_in(client, username: str, next_url: str | None = None):
    data = {"username": username, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


@pytest.mark.parametrize("next_url", [OFF_SITE, "//evil.example/admin/", None])
def test_staff_signing_in_without_a_safe_next_land_on_the_admin(client, staff, next_url):
    response = sign_in(client, staff.username, next_url)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_staff_signing_in_with_a_same_site_next_follow_it(client, staff):
    response = sign_in(client, staff.username, "/services/7/")

    assert response["Location"] == "/services/7/"


def test_signed_in_staff_opening_the_login_page_go_to_the_admin(client, staff):
    client.force_login(staff)

    response = client.get("/accounts/login/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("next_url", [OFF_SITE, None])
def test_customers_signing_in_without_a_safe_next_land_on_their_services(
    client, customer_user, next_url
):
    response = sign_in(client, customer_user.username, next_url)

    assert response.status_code == 302
    assert response["Location"] == "/services/"
