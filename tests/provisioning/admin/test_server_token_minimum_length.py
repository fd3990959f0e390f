"""A panel API token shorter than a real bearer token is refused by the server form: such a token
is a typo or a paste of part of it, and too short to be masked inside error texts."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from provisioning.admin.server_admin import TOKEN_TOO_SHORT_MESSAGE
from provisioning.models import Server
from vpnpanel.redaction import MIN_SECRET_LENGTH

pytestmark = pytest.mark.django_db


def add_server(admin_client, token: str):
    data = {
        "name": "fra",
        "hostname": "vpn-fra.example.com",
        "ip_address": "",
        "port": "",
        "secure": "on",
        "api_token": token,
        "max_accounts": "",
        "enabled": "on",
    }
    return admin_client.post(reverse("admin:provisioning_server_add"), data)


@pytest.mark.parametrize("token", ["t", "x" * (MIN_SECRET_LENGTH - 1)], ids=["one", "just-short"])
def test_short_token_is_refused_without_echoing_it(admin_client, token):
    response = add_server(admin_client, token)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["api_token"] == [TOKEN_TOO_SHORT_MESSAGE]
    assert escape(TOKEN_TOO_SHORT_MESSAGE) in response.content.decode()
    assert f"{MIN_SECRET_LENGTH} characters" in TOKEN_TOO_SHORT_MESSAGE
    assert not Server.objects.exists()


def test_token_of_the_minimum_length_is_saved(admin_client):
    token = "k" * MIN_SECRET_LENGTH

    response = add_server(admin_client, token)

    assert response.status_code == 302
    assert Server.objects.get().api_token == token
