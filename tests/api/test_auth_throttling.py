"""Refused tokens are counted per client address (``API_THROTTLE_ANON``): past the rate every
token from that address, a good one too, is a 429 with ``Retry-After`` until the window ends,
so tokens cannot be guessed at the speed of the network; other addresses are not held."""

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from portal.core.api.throttling import AUTH_FAILURES_THROTTLED

pytestmark = pytest.mark.django_db
SERVICES = "/api/v1/services/"


@pytest.fixture(autouse=True)
def _three_failures_a_minute(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "3/min"}


def from_address(address: str, token: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def start():
    """The start of a clock minute, so the test's requests share one window."""
    now = timezone.now()
    with time_machine.travel(now.replace(second=0, microsecond=0) + timezone.timedelta(0, 60)):
        yield


@pytest.mark.usefixtures("start")
def test_past_the_rate_of_refused_tokens_an_address_gets_429(owner, token_for):
    guesser = from_address("203.0.113.7", "vpt_guess")
    good_token_same_address = from_address("203.0.113.7", token_for(owner.user))

    assert [guesser.get(SERVICES).status_code for _ in range(3)] == [401, 401, 401]
    refused = guesser.get(SERVICES)

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"].startswith(AUTH_FAILURES_THROTTLED)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert good_token_same_address.get(SERVICES).status_code == 429
    assert from_address("198.51.100.1", token_for(owner.user)).get(SERVICES).status_code == 200


@pytest.mark.usefixtures("start")
def test_good_tokens_are_not_counted(owner, token_for):
    client = from_address("203.0.113.8", token_for(owner.user))

    assert {client.get(SERVICES).status_code for _ in range(5)} == {200}


def test_the_address_is_let_in_again_in_the_next_window(owner, token_for):
    now = timezone.now().replace(second=0, microsecond=0) + timezone.timedelta(0, 60)
    with time_machine.travel(now, tick=False):
        for _ in range(4):
            from_address("203.0.113.9", "vpt_guess").get(SERVICES)
        assert from_address("203.0.113.9", token_for(owner.user)).get(SERVICES).status_code == 429

    with time_machine.travel(now + timezone.timedelta(0, 61), tick=False):
        assert from_address("203.0.113.9", token_for(owner.user)).get(SERVICES).status_code == 200
