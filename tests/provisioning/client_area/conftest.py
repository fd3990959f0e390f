"""A small cast for the client area: the owner (``customer``), another customer, services."""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal.accounts.models import Customer
from provisioning.models import Product, Server, Service


@pytest.fixture
def other_customer(db) -> Customer:
    user = get_user_model().objects.create_user("mallory", "mallory@example.com", "pw-mallory-1")
    return Customer.objects.create(user=user)


@pytest.fixture
def product(product_for) -> Product:
    return product_for(name="VPN 100", download_mbps=100, upload_mbps=0)


@pytest.fixture
def service_factory(customer, product) -> Callable[..., Service]:
    def make(**fields) -> Service:
        defaults = {"customer": customer, "product": product, "status": "active"}
        return Service.objects.create(**{**defaults, **fields})

    return make


@pytest.fixture
def provisioned_service(service_factory, server_group) -> Service:
    """An active service with a client name on a server whose panel is never reached."""
    unreachable = Server.objects.create(
        name="unreached", group=server_group, hostname="127.0.0.1", port=9, secure=False,
        api_token="t",
    )  # fmt: skip
    return service_factory(status="active", server=unreachable, remote_name="vpn-provisioned")


@pytest.fixture
def owner_client(client: Client, customer: Customer) -> Client:
    client.force_login(customer.user)
    return client


@pytest.fixture
def other_client(other_customer: Customer) -> Client:
    other = Client()
    other.force_login(other_customer.user)
    return other
