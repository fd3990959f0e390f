"""Fixtures for the provisioning admin: a CSRF-enforcing admin client, services in any state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal.accounts.models import Customer
from provisioning.models import Product, Server, Service


@pytest.fixture
def csrf_admin_client(admin_user) -> Client:
    """A logged-in superuser whose POSTs must carry the CSRF token, like a browser's."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


@pytest.fixture
def customer_factory(db) -> Callable[..., Customer]:
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> Customer:
        n = next(counter)
        user = get_user_model().objects.create_user(f"customer{n}", f"customer{n}@example.com")
        return Customer.objects.create(user=user, **fields)

    return make


@pytest.fixture
def offline_server(server_group) -> Server:
    """A server record whose panel is never called by the test using it."""
    return Server.objects.create(
        name="panel-offline",
        group=server_group,
        hostname="127.0.0.1",
        port=9,
        secure=False,
        api_token="offline-token-123",
    )


@pytest.fixture
def plain_product(server_group) -> Product:
    return Product.objects.create(name="VPN Basic", group=server_group, settings={})


@pytest.fixture
def service_factory(customer_factory, plain_product) -> Callable[..., Service]:
    """A Service row in a given state, set up directly: the state is the test's "given"."""

    def make(**fields: Any) -> Service:
        fields.setdefault("customer", customer_factory())
        fields.setdefault("product", plain_product)
        return Service.objects.create(**fields)

    return make
