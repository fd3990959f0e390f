"""Every customer page this app adds, found from the URLconf itself: the client area's account
pages (/account/…) and the two-factor pages (/accounts/2fa/…). A page added later without a
login check, or a POST answered without the CSRF token, fails here. None takes an object id:
each shows and changes only the signed-in customer's own account (ownership is tested per page
in test_billing_details.py and test_two_factor.py)."""

from __future__ import annotations

import pytest
from allauth.mfa import urls as mfa_urls
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from portal.accounts import client_urls

#: A sign-in stage, not a page of a signed-in customer: reached only in the middle of a login.
SIGN_IN_STAGES = {"mfa_authenticate"}


def _names(patterns, namespace: str = "") -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names += _names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(f"{namespace}{pattern.name}")
    return names


def customer_urls() -> list[str]:
    names = _names(client_urls.urlpatterns, "account:") + _names(mfa_urls.urlpatterns)
    return [reverse(name) for name in names if name not in SIGN_IN_STAGES]


def test_the_list_of_customer_urls_is_complete():
    assert set(customer_urls()) >= {
        "/account/billing/",
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
