"""Sign-in throttling on the customer (allauth's) and the admin login: per name and address, per
name, per address; locks end with their window and one attacker cannot lock the real user out.

Every test signs in under fresh names from fresh addresses, so counters left in a shared cache
(Redis keeps them between runs) never meet; the throttle's clock is frozen mid-window.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from unittest import mock

import pytest
from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractUser
from django.db import connections
from django.http import HttpResponse
from django.test import Client, RequestFactory

from portal.accounts.throttle import LoginThrottle, client_address
from portal.core import ratelimit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-9"
WINDOW = 900
PER_USER_AND_IP = 5
PER_USER = 20
PER_IP = 30
THROTTLED = b"Too many failed sign-in attempts. Please wait 14 minutes and try again."


@pytest.fixture(autouse=True)
def limits(settings) -> None:
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = WINDOW
    settings.LOGIN_THROTTLE_PER_USER_AND_IP = PER_USER_AND_IP
    settings.LOGIN_THROTTLE_PER_USER = PER_USER
    settings.LOGIN_THROTTLE_PER_IP = PER_IP
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> list[float]:
    """The rate limiter's clock, one minute into a window (so 14 minutes are left)."""
    now = [(1_700_000_000 // WINDOW) * WINDOW + 60.0]
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def new_address() -> Callable[[], str]:
    return lambda: str(ipaddress.IPv4Address(0x0A000000 + random.getrandbits(24)))


@pytest.fixture
def user_factory() -> Callable[..., AbstractUser]:
    def make(**fields) -> AbstractUser:
        return UserFactory(username=f"user-{uuid.uuid4().hex[:12]}", password=PASSWORD, **fields)

    return make


@pytest.fixture
def user(user_factory) -> AbstractUser:
    return user_factory()


def sign_in(
    address: str, username: str, password: str = PASSWORD, url: str = "/accounts/login/"
) -> tuple[HttpResponse, Client]:
    client = Client(REMOTE_ADDR=address)
    return client.post(url, {"username": username, "password": password}), client


def signed_in(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def fail(address: str, username: str, times: int = 1) -> None:
    for _ in range(times):
        response, _ = sign_in(address, username, "wrong")
        assert response.status_code == 200
        assert b"enter a correct username and password" in response.content


def test_after_five_failures_even_the_right_password_is_refused_with_429(user, new_address):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP)

    response, client = sign_in(address, user.username)

    assert response.status_code == 429
    assert response["Retry-After"] == str(WINDOW - 60)
    assert THROTTLED in response.content
    assert not signed_in(client)


def test_the_name_is_counted_whatever_its_case(user, new_address):
    address = new_address()
    fail(address, user.username.upper(), PER_USER_AND_IP)

    response, _ = sign_in(address, user.username)

    assert response.status_code == 429


def test_the_same_name_from_another_address_still_signs_in(user, new_address):
    fail(new_address(), user.username, PER_USER_AND_IP)

    response, client = sign_in(new_address(), user.username)

    assert response.status_code == 302
    assert signed_in(client) == user.pk


def test_no_password_is_checked_while_throttled(user, new_address):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP)

    with mock.patch.object(ModelBackend, "authenticate", autospec=True) as backend:
        response, _ = sign_in(address, user.username)

    assert response.status_code == 429
    backend.assert_not_called()


def test_no_password_is_checked_by_any_backend_while_throttled(user, new_address):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP)

    with (
        mock.patch.object(ModelBackend, "authenticate", autospec=True) as model_backend,
        mock.patch.object(AuthenticationBackend, "authenticate", autospec=True) as allauth_backend,
    ):
        response, _ = sign_in(address, user.email)

    assert response.status_code == 429
    model_backend.assert_not_called()
    allauth_backend.assert_not_called()


def test_an_accounts_email_and_username_share_their_counters(user, new_address):
    address = new_address()
    for _ in range(PER_USER_AND_IP):
        response, _ = sign_in(address, user.email, "wrong")
        assert response.status_code == 200
        assert b"enter a correct email address and password" in response.content

    assert sign_in(address, user.username)[0].status_code == 429
    assert sign_in(address, user.email)[0].status_code == 429


def test_signing_in_by_email_works_and_clears_its_failures(user, new_address):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP - 1)

    response, client = sign_in(address, user.email)
    fail(address, user.username, PER_USER_AND_IP - 1)

    assert response.status_code == 302
    assert signed_in(client) == user.pk
    assert sign_in(address, user.username)[0].status_code == 302


def test_refused_attempts_count_against_no_other_limit(user_factory, new_address):
    address, target, other = new_address(), user_factory(), user_factory()
    fail(address, target.username, PER_USER_AND_IP)
    for _ in range(PER_IP):
        assert sign_in(address, target.username, "wrong")[0].status_code == 429

    assert sign_in(address, other.username)[0].status_code == 302
    assert sign_in(new_address(), target.username)[0].status_code == 302


def test_one_address_is_limited_across_many_names(user, new_address):
    address = new_address()
    for n in range(PER_IP):
        fail(address, f"sprayed-{uuid.uuid4().hex[:8]}-{n}")

    assert sign_in(address, user.username)[0].status_code == 429
    assert sign_in(new_address(), user.username)[0].status_code == 302


def test_a_forged_forwarded_for_does_not_reset_the_address_without_a_trusted_proxy(
    user, new_address
):
    address = new_address()
    for n in range(PER_USER_AND_IP):
        client = Client(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        client.post("/accounts/login/", {"username": user.username, "password": "wrong"})

    assert sign_in(address, user.username)[0].status_code == 429


def test_a_success_does_not_reset_the_address_counter(user_factory, new_address):
    address = new_address()
    own = user_factory()
    for n in range(PER_IP - 1):
        fail(address, f"sprayed-{uuid.uuid4().hex[:8]}-{n}")

    assert sign_in(address, own.username)[0].status_code == 302
    fail(address, f"sprayed-{uuid.uuid4().hex[:8]}")
    assert sign_in(address, f"sprayed-{uuid.uuid4().hex[:8]}")[0].status_code == 429


def test_a_success_clears_the_failures_of_that_name_at_that_address(user, new_address):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP - 1)
    assert sign_in(address, user.username)[0].status_code == 302

    fail(address, user.username, PER_USER_AND_IP - 1)

    assert sign_in(address, user.username)[0].status_code == 302


def test_guessers_on_many_addresses_meet_the_per_name_ceiling(user, new_address):
    for _ in range(PER_USER // PER_USER_AND_IP):
        fail(new_address(), user.username, PER_USER_AND_IP)

    response, _ = sign_in(new_address(), user.username)

    assert response.status_code == 429


def test_the_per_name_ceiling_spares_an_address_the_user_signed_in_from(user, new_address):
    home = new_address()
    assert sign_in(home, user.username)[0].status_code == 302
    for _ in range(PER_USER // PER_USER_AND_IP):
        fail(new_address(), user.username, PER_USER_AND_IP)
    assert sign_in(new_address(), user.username)[0].status_code == 429

    response, _ = sign_in(home, user.username)

    assert response.status_code == 302


@pytest.fixture
def bounded_cache(settings) -> None:
    """A cache that evicts under pressure, as the embedded mode's file cache does past 300 entries
    and Redis does under ``maxmemory``: every attempt from a new address adds entries to it."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"bounded-{uuid.uuid4().hex}",
            "OPTIONS": {"MAX_ENTRIES": 300},
        }
    }


@pytest.mark.usefixtures("bounded_cache")
@pytest.mark.parametrize(
    ("url", "is_staff"), [("/accounts/login/", False), ("/admin/login/", True)]
)
def test_guessing_from_many_addresses_does_not_lock_the_user_out_where_they_signed_in_before(
    user_factory, new_address, url, is_staff
):
    user = user_factory(is_staff=is_staff)
    home = new_address()
    assert sign_in(home, user.username, url=url)[0].status_code == 302
    for _ in range(200):
        sign_in(new_address(), user.username, "wrong", url=url)
    assert sign_in(new_address(), user.username, url=url)[0].status_code == 429

    response, client = sign_in(home, user.username, url=url)

    assert response.status_code == 302
    assert signed_in(client) == user.pk


def test_the_lock_ends_with_its_window(user, new_address, clock):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP)
    assert sign_in(address, user.username)[0].status_code == 429

    clock[0] += WINDOW

    assert sign_in(address, user.username)[0].status_code == 302


def test_admin_login_is_throttled_with_429_and_shares_the_counters(user_factory, new_address):
    staff = user_factory(is_staff=True, is_superuser=True)
    address = new_address()
    fail(address, staff.username, 2)
    for _ in range(PER_USER_AND_IP - 2):
        response, _ = sign_in(address, staff.username, "wrong", url="/admin/login/")
        assert response.status_code == 200
        assert b"enter the correct username and password" in response.content

    response, client = sign_in(address, staff.username, url="/admin/login/")

    assert response.status_code == 429
    assert response["Retry-After"] == str(WINDOW - 60)
    assert THROTTLED in response.content
    assert not signed_in(client)
    assert sign_in(new_address(), staff.username, url="/admin/login/")[0].status_code == 302


def test_a_throttled_attempt_logs_a_warning_without_the_name(user, new_address, caplog):
    address = new_address()
    fail(address, user.username, PER_USER_AND_IP)

    with caplog.at_level(logging.WARNING, logger="portal.accounts.throttle"):
        sign_in(address, user.username)

    [record] = [r for r in caplog.records if r.name == "portal.accounts.throttle"]
    assert record.levelno == logging.WARNING
    assert "throttled" in record.getMessage()
    assert address in record.getMessage()
    assert user.username not in record.getMessage()
    assert PASSWORD not in record.getMessage()


def test_parallel_attempts_get_no_more_than_the_limit(new_address):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=new_address())
    username = f"user-{uuid.uuid4().hex[:12]}"
    granted: list[bool] = []

    def attempt() -> None:
        try:
            granted.append(LoginThrottle(request=request, username=username).reserve())
        finally:
            connections.close_all()  # the thread's own connection, for the known-address lookup

    threads = [threading.Thread(target=attempt) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert granted.count(True) == PER_USER_AND_IP


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.7", "203.0.113.9", "192.0.2.7"),
        (1, "10.0.0.1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.1", "198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "10.0.0.1", "203.0.113.9", "10.0.0.1"),
        (0, "2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2::/64"),
        (0, "::ffff:192.0.2.7", "", "192.0.2.7"),
        (1, "10.0.0.1", "not-an-address", "unknown"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.PORTAL_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_ratelimit_undo_gives_back_one_hit_and_reset_forgets_the_window():
    key = f"test-{uuid.uuid4().hex}"
    assert [ratelimit.hit(key, 2, 60) for _ in range(3)] == [True, True, False]

    ratelimit.undo(key, 60)
    ratelimit.undo(key, 60)
    assert [ratelimit.hit(key, 2, 60) for _ in range(2)] == [True, False]

    ratelimit.reset(key, 60)
    assert [ratelimit.hit(key, 2, 60) for _ in range(3)] == [True, True, False]
    ratelimit.undo(f"{key}-never-hit", 60)  # nothing to give back: no error
