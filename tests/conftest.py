"""Shared fixtures: the fixed cast of permission tests, and factory fixtures.

The cast, one of each, built with ``tests.factories``:

- ``owner`` (also ``customer``): the customer whose services a test is about, signing in as
  ``alice`` / ``pw-alice-123``;
- ``other_customer``: another customer (``mallory``), who must see none of them;
- ``staff``: a staff superuser; pytest-django's ``admin_user`` and ``admin_client`` are this user.

Factory fixtures bind what a test would otherwise pass every time: ``service_factory`` makes a
service of the owner on the plan ``product``; ``server_for`` and ``product_for`` make the rows of
a running simulator's panel and of a plan deploying to it. Everything else comes straight from
the factories (``ServiceFactory(status=..., server=...)``, ``CustomerFactory()``, ...).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import pytest
from celery.canvas import Signature
from django.contrib.auth.models import AbstractUser

from portal.accounts.models import Customer
from provisioning.models import Product, Server, ServerGroup, Service
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    ServerFactory,
    ServerGroupFactory,
    ServiceFactory,
    StaffFactory,
)

pytest_plugins = ["tests.simulator_fixtures", "tests.worker_fixtures"]

OWNER_PASSWORD = "pw-alice-123"


def pytest_configure(config):
    """``cache.clear()`` on Redis is FLUSHDB: it would wipe the Celery broker's queues in CI."""
    from django.core.cache.backends.filebased import FileBasedCache
    from django.core.cache.backends.locmem import LocMemCache
    from django_redis.cache import RedisCache

    def refuse(self):
        raise AssertionError("Tests delete their own cache keys; clearing the cache is FLUSHDB")

    for backend in (FileBasedCache, LocMemCache, RedisCache):
        backend.clear = refuse
    config.addinivalue_line(
        "markers", "slow: takes 15 s or more; deselect for a quick local run with -m 'not slow'"
    )


@pytest.fixture
def private_cache(settings):
    """The configured cache backend under keys no other test (or earlier run) can see.

    Rate-limit counters and cached panel answers are keyed by row ids, which repeat after a
    flush, so without this one test's entries would show in the next. Tests delete nothing.
    """
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"t-{uuid.uuid4().hex[:10]}"}
    }


# The cast ----------------------------------------------------------------------------------------


@pytest.fixture
def owner(db) -> Customer:
    """The customer whose services the test is about: ``alice`` / ``pw-alice-123``."""
    return CustomerFactory(user__username="alice", user__password=OWNER_PASSWORD)


@pytest.fixture
def customer(owner: Customer) -> Customer:
    """The owner, by the name most tests use."""
    return owner


@pytest.fixture
def other_customer(db) -> Customer:
    """Another customer, ``mallory``: none of the owner's services are theirs."""
    return CustomerFactory(user__username="mallory")


@pytest.fixture
def signed_in(client, customer: Customer):
    """The test client, signed in as the cast's customer."""
    client.force_login(customer.user)
    return client


@pytest.fixture
def staff(db) -> AbstractUser:
    """A staff superuser, signing in with ``tests.factories.TEST_PASSWORD``."""
    return StaffFactory()


@pytest.fixture
def admin_user(staff: AbstractUser) -> AbstractUser:
    """pytest-django's admin (and so ``admin_client``'s user) is the cast's ``staff``."""
    return staff


# Factory fixtures --------------------------------------------------------------------------------


@pytest.fixture
def customer_factory(db) -> Callable[..., Customer]:
    """A new customer per call; ``customer_factory("carol")`` names its user, who signs in with
    ``tests.factories.TEST_PASSWORD``."""

    def make(username: str | None = None, **fields) -> Customer:
        if username is not None:
            fields["user__username"] = username
        return CustomerFactory(**fields)

    return make


@pytest.fixture
def server_group(db) -> ServerGroup:
    return ServerGroupFactory()


@pytest.fixture
def server_for(server_group: ServerGroup) -> Callable[..., Server]:
    """A Server row for a running simulator: ``server_for(simulator, **fields)``."""
    return partial(ServerFactory.for_simulator, group=server_group)


@pytest.fixture
def product_for(server_group: ServerGroup) -> Callable[..., Product]:
    """A product deploying to ``(server, network)`` pairs in order, with the settings given:
    ``product_for((server, "office"), name="VPN 100", download_mbps=10)``."""

    def make(*targets: tuple[Server, str], name: str = "VPN 100", **product_settings) -> Product:
        deploy_targets = [{"server_id": s.pk, "network": network} for s, network in targets]
        return ProductFactory(
            name=name,
            group=server_group,
            settings={"deploy_targets": deploy_targets, **product_settings},
        )

    return make


@pytest.fixture
def product(product_for: Callable[..., Product]) -> Product:
    """The plan ``VPN 100``: 100 Mbit/s down, upload unlimited, no deploy targets."""
    return product_for(name="VPN 100", download_mbps=100, upload_mbps=0)


@pytest.fixture
def service_factory(owner: Customer, product: Product) -> Callable[..., Service]:
    """A service of the owner on ``product``, in the state given (pending unless told):
    ``service_factory(status="active", server=..., remote_name=...)``; ``customer=`` another."""
    return partial(ServiceFactory, customer=owner, product=product)


@dataclass
class SentTasks:
    """Task messages as they leave for the broker, by name and ids; none reaches it."""

    sent: list[tuple[str, tuple]] = field(default_factory=list)

    def named(self, name: str) -> list[tuple]:
        return [args for task, args in self.sent if task == name]


@pytest.fixture
def sent_tasks(monkeypatch) -> SentTasks:
    caught = SentTasks()

    def catch(self: Signature, *args: object, **kwargs: object) -> None:
        caught.sent.append((self.task, tuple(self.args)))

    monkeypatch.setattr(Signature, "apply_async", catch)
    return caught
