"""The service page says each thing once: with the panel's VPN client card shown, the
Information card does not repeat the client name, status and limits."""

import re

import pytest
from django.utils import timezone

from tests.factories import ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def card(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, section_id
    return match.group(0)


def test_client_name_status_and_limits_are_shown_once(
    owner_client, customer, simulator, server_for, product_for
):
    server = server_for(simulator)
    simulator.knob("POST", "clients", {"name": "vpn-once", "network_name": "office"})
    service = ServiceFactory(
        customer=customer,
        product=product_for((server, "office"), download_mbps=100, upload_mbps=10),
        server=server,
        network="office",
        remote_name="vpn-once",
        status="active",
        create_posted_at=timezone.now(),
    )

    html = owner_client.get(f"/services/{service.pk}/").content.decode()

    information, vpn_client = card(html, "service-information"), card(html, "vpn-client")
    for label in ("Client name", "Download limit", "Upload limit"):
        assert label not in information
        assert label in vpn_client
    assert "Status" not in information
    assert 'data-role="client-status"' in vpn_client
    assert html.count("<code>vpn-once</code>") == 1


def test_without_the_card_the_information_card_keeps_them(owner_client, provisioned_service):
    provisioned_service.status = "suspended"
    provisioned_service.save()

    html = owner_client.get(f"/services/{provisioned_service.pk}/").content.decode()

    information = card(html, "service-information")
    assert 'id="vpn-client"' not in html
    for label in ("Status", "Client name", "Download limit", "Upload limit"):
        assert label in information
