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
