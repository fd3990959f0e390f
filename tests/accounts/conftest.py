"""Accounts: sign-in through the real pages, and reading links out of the emails sent.

The cast (owner, other customer, staff) is in tests/conftest.py. Every test here runs under its
own cache keys: allauth keeps its rate limits and used two-factor codes in the cache, keyed by
address and user id, which repeat from test to test.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client

from portal.core.models import Branding


@pytest.fixture(autouse=True)
def _private_cache(private_cache) -> None:
    """Every accounts test under the shared fixture's private cache keys (tests/conftest.py)."""


@pytest.fixture
def branding() -> Branding:
    """A shop whose name must be escaped in HTML, with a support email to reply to."""
    return Branding.objects.create(
        shop_name="Acme <VPN>", primary_colour="#aa3300", support_email="help@acme.example"
    )


def sign_in(client: Client, name: str, password: str, **extra: str):
    """Post the sign-in form as a browser does (its name field is posted as ``username``)."""
    return client.post("/accounts/login/", {"username": name, "password": password, **extra})


def link_in_last_email(to: str) -> str:
    """The path of the one link in the last email sent to ``to``."""
    message = [m for m in mail.outbox if to in m.to][-1]
    [url] = re.findall(r"https?://\S+", message.body)
    return re.sub(r"^https?://[^/]+", "", url)


def assert_branded(message: EmailMessage, link: str | None) -> None:
    """From the shop, replies to its support, and an HTML part in the portal's look, every
    value escaped, with the text part's URL containing ``link`` as a link."""
    assert message.from_email == '"Acme <VPN>" <webmaster@localhost>'
    assert message.reply_to == ["help@acme.example"]
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    if link is not None:
        [url] = [u for u in re.findall(r"https?://\S+", message.body) if link in u]
        assert f'href="{url}"' in html
    assert "Acme &lt;VPN&gt;" in html
    assert "Acme <VPN>" not in html
    assert "background:#aa3300" in html
    assert 'href="mailto:help@acme.example"' in html


def signed_in(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None
