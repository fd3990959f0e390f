"""Sign-up with email verification: the account and its customer are made together, the
verification email goes out, and signing in waits for the confirmation."""

from __future__ import annotations

from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from portal.accounts import services
from portal.accounts.models import Customer
from tests.accounts.conftest import assert_branded, link_in_last_email, sign_in, signed_in

pytestmark = pytest.mark.django_db

EMAIL = "new.customer@example.com"
PASSWORD = "a-long-and-new-passphrase-7"


def sign_up(client: Client, email: str = EMAIL):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_sign_up_sends_the_verification_email_and_makes_the_customer(client, branding):
    response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = get_user_model().objects.get(email=EMAIL)
    assert Customer.objects.get(user=user).signed_up
    assert user.username  # made up from the address: customers sign in with the email
    [message] = mail.outbox
    assert message.to == [EMAIL]
    assert message.subject == "[Acme <VPN>] Confirm your email address"
    assert "/accounts/confirm-email/" in message.body
    assert_branded(message, link="/accounts/confirm-email/")
    assert PASSWORD not in message.body
    assert PASSWORD not in message.alternatives[0].content
    assert not signed_in(client)


@pytest.mark.parametrize("name", [EMAIL, "generated username"])
def test_signing_in_before_confirming_is_held(client, name):
    sign_up(client)
    if name == "generated username":
        name = get_user_model().objects.get(email=EMAIL).username
    browser = Client()

    response = sign_in(browser, name, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not signed_in(browser)
    assert browser.get("/services/").status_code == 302


def test_confirming_the_address_lets_the_customer_sign_in(client):
    sign_up(client)
    link = link_in_last_email(EMAIL)

    page = Client().get(link)
    assert page.status_code == 200
    assert EMAIL in page.content.decode()
    assert Client().post(link).status_code == 302
    assert EmailAddress.objects.get(email=EMAIL).verified

    browser = Client()
    response = sign_in(browser, EMAIL, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/services/"
    assert signed_in(browser) == get_user_model().objects.get(email=EMAIL).pk


def test_confirming_by_get_changes_nothing(client):
    sign_up(client)

    Client().get(link_in_last_email(EMAIL))

    assert not EmailAddress.objects.get(email=EMAIL).verified


def test_the_customer_signs_in_with_the_generated_username_too(client):
    sign_up(client)
    Client().post(link_in_last_email(EMAIL))
    username = get_user_model().objects.get(email=EMAIL).username

    assert sign_in(Client(), username, PASSWORD)["Location"] == "/services/"


def test_no_account_is_left_without_its_customer(client):
    with (
        mock.patch.object(services, "customer_create", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        sign_up(client)

    assert not get_user_model().objects.filter(email=EMAIL).exists()
    assert not EmailAddress.objects.filter(email=EMAIL).exists()


def test_signing_up_with_a_taken_address_makes_no_second_account(client, owner, branding):
    response = sign_up(client, email=owner.user.email)

    assert response.status_code == 302
    assert get_user_model().objects.filter(email=owner.user.email).count() == 1
    [message] = mail.outbox
    assert message.subject == "[Acme <VPN>] You already have an account"
    assert_branded(message, link="/accounts/login/")
    assert_branded(message, link="/accounts/password/reset/")


def test_the_sign_up_page_is_in_the_portals_look(client):
    page = client.get("/accounts/signup/")

    assert page.status_code == 200
    assert "base.html" in [t.name for t in page.templates]
    assert "<script>" not in page.content.decode()
