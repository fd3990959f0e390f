"""/healthz: anyone learns ok or failing; staff and monitoring with the token see each check."""

import pytest
from django.test import override_settings

from portal.celery import app as celery_app
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "healthz-token-for-monitoring-0123456789abcdef"
SERVICE_NAMES = (b"sqlite", b"postgresql", b"Cache", b"Transport", b"redis", b"filesystem")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="ops", is_staff=True))
    return client


@pytest.fixture
def broker_down():
    saved = {key: celery_app.conf[key] for key in ("broker_url", "broker_transport_options")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", broker_transport_options={})
    yield
    celery_app.conf.update(saved)


def test_public_healthz_says_only_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not any(name in response.content for name in SERVICE_NAMES)
    assert response["Cache-Control"].startswith("max-age=0")


def test_public_healthz_says_only_failing_when_a_service_is_down(client, broker_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error"}


def test_a_signed_in_customer_gets_the_public_answer(client):
    client.force_login(UserFactory(username="customer"))

    assert client.get("/healthz").json() == {"status": "ok"}


def test_staff_see_every_check(staff_client):
    response = staff_client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "cache",
        "broker",
    }
    assert body["checks"]["database"]["vendor"]
    assert "last_seen" in body["worker"]


def test_monitoring_with_the_token_sees_every_check(client, settings):
    settings.HEALTHZ_TOKEN = TOKEN

    response = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert set(response.json()["checks"]) == {"database", "cache", "broker"}


@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN[:-1]}x", f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}", ""]
)
def test_without_the_right_token_healthz_names_nothing(client, settings, authorization):
    settings.HEALTHZ_TOKEN = TOKEN

    response = client.get("/healthz", HTTP_AUTHORIZATION=authorization)

    assert response.json() == {"status": "ok"}


def test_no_token_is_accepted_when_none_is_configured(client, settings):
    settings.HEALTHZ_TOKEN = ""

    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "ok"}


def test_healthz_is_503_naming_the_broker_when_the_broker_is_down(staff_client, broker_down):
    response = staff_client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False
    assert checks["broker"]["error"]
    assert checks["database"]["ok"] is True


def test_healthz_is_503_when_the_cache_is_down(staff_client):
    dead_redis = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with override_settings(CACHES=dead_redis):
        response = staff_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "ok": False,
        "ms": response.json()["checks"]["cache"]["ms"],
        "error": "ConnectionError",
    }


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
