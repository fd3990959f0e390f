"""The admin lives under the same strict CSP: its pages must not need inline script."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/provisioning/service/",
        "/admin/provisioning/service/add/",
        "/admin/provisioning/product/add/",
        "/admin/provisioning/modulelogentry/",
    ],
)
def test_admin_pages_work_under_the_strict_policy(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    page = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", page)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page)
