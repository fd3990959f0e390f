from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from vpnpanel import CallRecord, PanelClient, RetryPolicy, Timeouts

from .samples import BASE_URL, TOKEN


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def make_client(sleeps: list[float], records: list[CallRecord]) -> Callable[..., PanelClient]:
    def factory(**overrides: Any) -> PanelClient:
        options: dict[str, Any] = {
            "name": "vpn-fra",
            "timeouts": Timeouts(connect=5, read=20),
            "retry": RetryPolicy(attempts=3, backoff=0.5, max_backoff=8, jitter=0),
            "on_call": records.append,
            "sleep": sleeps.append,
        }
        return PanelClient(BASE_URL, TOKEN, **(options | overrides))

    return factory


@pytest.fixture
def client(make_client: Callable[..., PanelClient]) -> Iterator[PanelClient]:
    with make_client() as panel:
        yield panel
