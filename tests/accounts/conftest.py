"""Accounts: sign-in through the real pages, and reading links out of the emails sent.

The cast (owner, other customer, staff) is in tests/conftest.py. Every test here runs under its
own cache keys: allauth keeps its rate limits and used two-factor codes in the cache, keyed by
address and user id, which repeat from test to test.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client


@pytest.fixture(autouse=True)
def _private_cache(private_cache) -> None:
    """Every accounts test under the shared fixture's private cache keys (tests/conftest.py)."""


def sign_in(client: Client, name: str, password: str, **extra: str):
    """Post the sign-in form as a browser does (its name field is posted as ``username``)."""
    return client.post("/accounts/login/", {"username": name, "password": password, **extra})


def link_in_last_email(to: str) -> str:
    """The path of the one link in the last email sent to ``to``."""
    message = [m for m in mail.outbox if to in m.to][-1]
    [url] = re.findall(r"https?://\S+", message.body)
    return re.sub(r"^https?://[^/]+", "", url)


def signed_in(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None
