"""Customer login, logout and password change through Django's auth views."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_with_the_form_lands_on_my_services(client, customer):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    assert page.content.decode().count("Forgot your password?") == 1

    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})

    assert response.status_code == 302
    assert response["Location"] == "/services/"


def test_wrong_password_stays_on_the_login_page(client, customer):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


@pytest.mark.parametrize(
    "next_url", ["//evil.example", "https://evil.example/", "//evil.example/services/"]
)
def test_login_never_redirects_off_site(client, customer, next_url):
    response = client.post(
        f"/accounts/login/?next={next_url}",
        {"username": "alice", "password": "pw-alice-123", "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == "/services/"


def test_login_follows_a_same_site_next(client, customer):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "pw-alice-123", "next": "/services/7/"},
    )

    assert response["Location"] == "/services/7/"


@pytest.mark.parametrize("next_url", ["/accounts/login/", "/accounts/login/?next=/services/"])
def test_a_signed_in_user_sent_back_to_the_login_page_goes_home(owner_client, next_url):
    response = owner_client.get("/accounts/login/", {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/services/"


def test_logout_by_get_is_refused(owner_client):
    response = owner_client.get("/accounts/logout/")

    assert response.status_code == 405
    assert owner_client.get("/services/").status_code == 200


def test_logout_by_post_signs_out(owner_client):
    response = owner_client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert owner_client.get("/services/").status_code == 302


def test_logout_without_csrf_token_is_refused(customer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)

    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/services/").status_code == 200


def test_password_change(owner_client, customer):
    assert owner_client.get("/accounts/password/change/").status_code == 200

    response = owner_client.post(
        "/accounts/password/change/",
        {
            "old_password": "pw-alice-123",
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/done/"
    assert owner_client.get(response["Location"]).status_code == 200
    customer.user.refresh_from_db()
    assert customer.user.check_password("a-much-longer-passphrase-42")


def test_password_change_needs_login(client):
    response = client.get("/accounts/password/change/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_admin_keeps_its_own_password_change_page(admin_client):
    response = admin_client.get("/admin/password_change/")

    assert response.status_code == 200
    assert "admin/base_site.html" in [t.name for t in response.templates]


def test_admin_logout_keeps_the_admins_own_page(admin_client):
    response = admin_client.post("/admin/logout/")

    assert response.status_code == 200
    assert "Logged out" in response.content.decode()
