"""Password reset by email, end to end, without telling strangers which addresses exist."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tests.accounts.conftest import assert_branded, link_in_last_email, sign_in, signed_in
from tests.conftest import OWNER_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def ask_for_reset(email: str):
    return Client().post("/accounts/password/reset/", {"email": email})


def test_password_reset_by_email(owner, branding):
    email = owner.user.email

    response = ask_for_reset(email)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    [message] = mail.outbox
    assert message.to == [email]
    assert message.subject == "[Acme <VPN>] Reset your password"
    assert owner.user.username in message.body
    assert_branded(message, link="/accounts/password/reset/key/")

    browser = Client()
    form_page = browser.get(link_in_last_email(email), follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else None
    assert set_url
    done = browser.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302

    assert sign_in(Client(), owner.user.username, OWNER_PASSWORD).status_code == 200
    new_browser = Client()
    assert sign_in(new_browser, owner.user.username, NEW_PASSWORD).status_code == 302
    assert signed_in(new_browser) == owner.user.pk
    [notice] = mail.outbox[1:]  # allauth's security notice: branded too
    assert notice.subject == "[Acme <VPN>] Password Reset"
    assert_branded(notice, link=None)
    assert "Your password has been reset." in notice.alternatives[0].content


def test_a_reset_link_works_once(owner):
    ask_for_reset(owner.user.email)
    link = link_in_last_email(owner.user.email)
    browser = Client()
    set_url = browser.get(link, follow=True).redirect_chain[-1][0]
    browser.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = Client().get(link, follow=True)

    assert "not valid any more" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer(owner, branding):
    known = ask_for_reset(owner.user.email)
    unknown = ask_for_reset("nobody@example.com")

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [m.subject for m in mail.outbox] == [
        "[Acme <VPN>] Reset your password",
        "[Acme <VPN>] Password reset",
    ]
    assert "no account uses it" in mail.outbox[1].body
    assert_branded(mail.outbox[1], link="/accounts/signup/")
