"""The OpenAPI schema and the Swagger UI page, served from vendored files under the CSP, to
signed-in users (a browser session) and token holders only."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.test import APIClient

OPENAPI_JSON = "application/vnd.oai.openapi+json"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/docs/?script="])
def test_the_schema_and_its_page_are_not_public(path):
    response = Client().get(path)

    assert response.status_code == 401
    assert "/api/v1/" not in response.content.decode()
    assert "SwaggerUIBundle" not in response.content.decode()


def test_the_openapi_schema_is_served_to_a_token_holder(token_for, owner):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(owner.user)}")

    response = api.get("/api/schema/", HTTP_ACCEPT=OPENAPI_JSON)

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_the_openapi_schema_is_served_to_a_signed_in_browser(client, owner):
    client.force_login(owner.user)

    response = client.get("/api/schema/", HTTP_ACCEPT=OPENAPI_JSON)

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_the_swagger_page_has_no_inline_script_or_style_and_vendored_assets(client, owner):
    client.force_login(owner.user)
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', page)
    assert {"drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"} <= set(assets)
    assert all(finders.find(asset) for asset in assets)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
