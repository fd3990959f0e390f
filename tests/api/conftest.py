"""The API's cast: clients carrying a token of the owner, of the other customer, of staff."""

from collections.abc import Callable

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework.test import APIClient

from portal.accounts import services
from portal.accounts.models import Customer


@pytest.fixture(autouse=True)
def _private_cache(private_cache):
    """Throttle counters are keyed by user id, which repeats after each test's flush."""


@pytest.fixture
def token_for(db) -> Callable[..., str]:
    """A new API token of ``user`` (the token itself, as shown once): ``token_for(user)``."""

    def make(user: AbstractBaseUser, **fields) -> str:
        fields.setdefault("name", "tests")
        return services.api_token_create(user=user, **fields)[1]

    return make


@pytest.fixture
def client_for(token_for) -> Callable[[AbstractBaseUser], APIClient]:
    """An API client sending a new token of ``user``."""

    def make(user: AbstractBaseUser) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client

    return make


@pytest.fixture
def owner_api(client_for, owner: Customer) -> APIClient:
    return client_for(owner.user)


@pytest.fixture
def other_api(client_for, other_customer: Customer) -> APIClient:
    return client_for(other_customer.user)


@pytest.fixture
def staff_api(client_for, staff) -> APIClient:
    """A superuser's client (every staff permission)."""
    return client_for(staff)
