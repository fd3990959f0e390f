"""Fixtures for the provisioning admin: a CSRF-enforcing admin client, a server never called."""

from __future__ import annotations

import pytest
from django.test import Client

from provisioning.models import Server
from tests.factories import ServerFactory


@pytest.fixture
def csrf_admin_client(admin_user) -> Client:
    """A logged-in superuser whose POSTs must carry the CSRF token, like a browser's."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


@pytest.fixture
def offline_server(db) -> Server:
    """A server record whose panel is never called by the test using it."""
    return ServerFactory()
