"""Access to the real PostgreSQL, Redis and broker for service-backed tests.

Locally, a test that needs a service skips with the reason when the service is not configured or
not reachable; under ``REQUIRE_SERVICES=1`` (CI) the same test fails instead.
"""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"


def service_unavailable(reason: str) -> None:
    """Skip, or fail under REQUIRE_SERVICES=1; never returns."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def redis_url_or_skip() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_unavailable("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis at REDIS_URL is not reachable: {exc}")
    return url


def postgresql_or_skip() -> None:
    """Skip a PostgreSQL-only test elsewhere; fail it where PostgreSQL was asked for (CI)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES or os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail("this test must run on PostgreSQL")
        service_unavailable("DATABASE_URL does not point at PostgreSQL")
