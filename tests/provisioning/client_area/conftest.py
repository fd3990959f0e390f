"""The client area: the owner's and another customer's clients, a provisioned service.

The cast (owner, other customer, staff) and `service_factory` are in tests/conftest.py.
"""

import pytest
from django.test import Client

from portal.accounts.models import Customer
from provisioning.models import Service, ServiceStatus
from tests.factories import ServerFactory


@pytest.fixture
def provisioned_service(service_factory) -> Service:
    """An active service with a client name on a server whose panel is never reached."""
    return service_factory(
        status=ServiceStatus.ACTIVE, server=ServerFactory(), remote_name="vpn-provisioned"
    )


@pytest.fixture
def owner_client(client: Client, customer: Customer) -> Client:
    client.force_login(customer.user)
    return client


@pytest.fixture
def other_client(other_customer: Customer) -> Client:
    other = Client()
    other.force_login(other_customer.user)
    return other
