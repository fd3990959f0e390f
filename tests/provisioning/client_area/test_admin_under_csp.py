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


def test_the_service_page_with_its_vpn_tab_works_under_the_strict_policy(
    admin_client, simulator, server_for, panel, service_factory
):
    panel.create_client(network_name="office", name="vpn-csp")
    service = service_factory(
        status="active", server=server_for(simulator), network="office", remote_name="vpn-csp"
    )

    response = admin_client.get(f"/admin/provisioning/service/{service.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="service-vpn-client"' in page  # the panel-backed blocks are on this page
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", page)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page)
    assert not re.search(r"\sstyle\s*=", page)
