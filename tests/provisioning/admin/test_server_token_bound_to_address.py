"""The stored API token is only ever sent to the address it was entered for: changing the host,
IP, port or scheme of a server needs the token entered again (else anyone allowed to edit a
server could point it at their own listener and press Test connection to receive the token)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from provisioning.admin.server_admin import ADDRESS_CHANGED_MESSAGE
from provisioning.models import Server
from tests.factories import ServerFactory

pytestmark = pytest.mark.django_db

TOKEN = "panel-token-4f9c2b7e1d"
STORED = {
    "name": "fra",
    "hostname": "vpn-fra.example.com",
    "ip_address": "",
    "port": "8098",
    "secure": "on",
    "max_accounts": "",
    "enabled": "on",
}


@pytest.fixture
def server(db) -> Server:
    return ServerFactory(
        name="fra",
        hostname="vpn-fra.example.com",
        port=8098,
        secure=True,
        api_token=TOKEN,
    )


def change(admin_client, server: Server, **fields: str):
    data = {**STORED, "group": str(server.group_id), "api_token": "", **fields}
    if data["secure"] == "":
        del data["secure"]  # an unticked checkbox is not posted
    return admin_client.post(reverse("admin:provisioning_server_change", args=[server.pk]), data)


def stored(server: Server) -> tuple:
    row = Server.objects.get(pk=server.pk)
    return (row.hostname, row.ip_address, row.port, row.secure, row.api_token)


@pytest.mark.parametrize(
    "moved",
    [
        {"hostname": "attacker.example.net"},
        {"ip_address": "203.0.113.7"},
        {"port": "9443"},
        {"secure": ""},
    ],
    ids=["hostname", "ip_address", "port", "secure"],
)
def test_address_change_with_an_empty_token_is_refused_and_nothing_is_saved(
    admin_client, server, moved
):
    before = stored(server)

    response = change(admin_client, server, **moved)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["api_token"] == [ADDRESS_CHANGED_MESSAGE]
    assert escape(ADDRESS_CHANGED_MESSAGE) in response.content.decode()
    assert stored(server) == before


def test_address_change_with_the_token_entered_again_is_saved(admin_client, server):
    response = change(
        admin_client, server, hostname="vpn-fra2.example.com", api_token="panel-token-new-77"
    )

    assert response.status_code == 302
    assert stored(server) == ("vpn-fra2.example.com", None, 8098, True, "panel-token-new-77")


def test_other_changes_with_an_empty_token_keep_the_stored_token(admin_client, server):
    response = change(admin_client, server, name="fra-renamed", max_accounts="40")

    assert response.status_code == 302
    row = Server.objects.get(pk=server.pk)
    assert (row.name, row.max_accounts, row.api_token) == ("fra-renamed", 40, TOKEN)
