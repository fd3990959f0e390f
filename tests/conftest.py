import uuid

import pytest

pytest_plugins = ["tests.simulator_fixtures"]


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
        "markers", "slow: takes ~15 s; deselect for a quick local run with -m 'not slow'"
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
