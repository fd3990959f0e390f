"""Every client-area URL that takes a service, found from the URLconf itself: a URL added later
without the ownership check fails here. Another customer gets 404 (never 403 with data), an
anonymous visitor the login page, and a POST without the CSRF token 403."""

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from provisioning.client_area import urls as client_area_urls

EXTRA_KWARGS = {"service_config": {"protocol": "wireguard", "ext": "conf"}}
POST_ONLY = {"service_otl", "service_usage_alert"}


def _service_urls() -> list[str]:
    return [
        pattern.name
        for pattern in client_area_urls.urlpatterns
        if isinstance(pattern, URLPattern) and "pk" in pattern.pattern.converters
    ]


def _url(name: str, service) -> str:
    kwargs = {"pk": service.pk, **EXTRA_KWARGS.get(name, {})}
    return reverse(f"client_area:{name}", kwargs=kwargs)


def test_the_list_of_service_urls_is_complete():
    assert set(_service_urls()) >= {
        "service_detail",
        "service_status",
        "service_traffic",
        "service_config",
        "service_otl",
        "service_connection",
        "service_traffic_json",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", _service_urls())
def test_another_customers_service_is_404_on_every_url(name, service_factory, other_client):
    service = service_factory(status="active", remote_name="vpn-owner")
    method = other_client.post if name in POST_ONLY else other_client.get

    response = method(_url(name, service))

    assert response.status_code == 404
    assert b"vpn-owner" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", _service_urls())
def test_anonymous_visitors_are_sent_to_login_on_every_url(name, service_factory):
    service = service_factory(status="active")
    anonymous = Client()
    method = anonymous.post if name in POST_ONLY else anonymous.get

    response = method(_url(name, service))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_every_post_needs_the_csrf_token(name, service_factory, customer):
    service = service_factory(status="active")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer.user)

    assert strict.post(_url(name, service)).status_code == 403
    assert strict.get(_url(name, service)).status_code == 405
