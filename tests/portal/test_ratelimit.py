"""The shared fixed-window rate limit: counts per key, refuses past the limit, resets per window."""

import threading
import uuid

import pytest

from portal.core import ratelimit


@pytest.fixture
def key() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_allows_up_to_the_limit_then_refuses(key):
    assert [ratelimit.hit(key, 3, 3600) for _ in range(5)] == [True, True, True, False, False]


def test_keys_are_counted_apart(key):
    assert [ratelimit.hit(key, 1, 3600) for _ in range(2)] == [True, False]
    assert ratelimit.hit(key + "-other", 1, 3600) is True


def test_concurrent_hits_never_exceed_the_limit(key):
    allowed: list[bool] = []
    threads = [
        threading.Thread(target=lambda: allowed.append(ratelimit.hit(key, 10, 3600)))
        for _ in range(40)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10


def test_a_new_window_starts_a_new_count(key, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.hit(key, 1, 60) for _ in range(2)] == [True, False]
    assert ratelimit.retry_after(60) == 20
    now[0] += 20
    assert ratelimit.hit(key, 1, 60) is True


def test_rejects_a_meaningless_limit(key):
    with pytest.raises(ValueError, match="limit and window"):
        ratelimit.hit(key, 0, 60)
