"""Every signed-in customer's page under /account/ and /accounts/ (ours and allauth's: billing
details, email addresses, passwords, two-factor), found from the URLconf itself: a page added
later without a login check, or a POST answered without the CSRF token, fails here. Pages for
visitors (sign-in, sign-up, reset, confirmation links) and sign-in stages are named below.
None takes an object id: each shows and changes only the signed-in customer's own account
(ownership is tested per page in test_billing_details.py and test_two_factor.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from portal.accounts import client_urls
from portal.accounts import urls as accounts_urls
from tests.accounts.conftest import sign_in
from tests.conftest import OWNER_PASSWORD

#: Pages for visitors, and steps in the middle of a sign-in (they need no signed-in user).
PUBLIC = {
    "login",
    "logout",
    "account_login",
    "account_logout",
    "account_signup",
    "account_inactive",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_login_code",
    "mfa_authenticate",
}


def _names(patterns, namespace: str = "") -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names += _names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(f"{namespace}{pattern.name}")
    return names


def customer_urls() -> list[str]:
    names = _names(client_urls.urlpatterns, "account:") + _names(accounts_urls.urlpatterns)
    return sorted({reverse(name) for name in names if name not in PUBLIC})


def test_the_list_of_customer_urls_is_complete():
    assert set(customer_urls()) >= {
        "/account/billing/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/password/set/",
        "/accounts/reauthenticate/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
        "/accounts/2fa/totp/deactivate/",
        "/accounts/2fa/recovery-codes/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/2fa/recovery-codes/download/",
        "/accounts/2fa/reauthenticate/",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", customer_urls())
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_login_on_every_url(url, method):
    response = getattr(Client(), method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('login')}?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("url", customer_urls())
def test_every_post_needs_the_csrf_token(url, customer):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer.user)

    assert strict.post(url, {"country": "DE", "code": "123456"}).status_code == 403
    customer.refresh_from_db()
    assert customer.country == ""


@pytest.mark.django_db
def test_every_page_renders_in_the_portals_look_without_inline_script(owner):
    browser = Client()
    sign_in(browser, "alice", OWNER_PASSWORD)
    browser.post("/accounts/reauthenticate/", {"password": OWNER_PASSWORD})

    pages = {url: browser.get(url) for url in customer_urls()}

    rendered = {url: page for url, page in pages.items() if page.status_code == 200}
    assert {"/account/billing/", "/accounts/2fa/", "/accounts/email/"} <= set(rendered)
    assert "/accounts/2fa/totp/activate/" in rendered
    for url, page in rendered.items():
        if page["Content-Type"].startswith("text/html"):
            assert "base.html" in [t.name for t in page.templates], url
            assert "<script>" not in page.content.decode(), url
            assert " style=" not in page.content.decode(), url
    assert all(page.status_code in (200, 302, 404) for page in pages.values())
