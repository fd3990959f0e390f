"""The server's host field takes a bare host name or IP address, nothing that smuggles URL parts
(scheme, userinfo, port, path, query, fragment) past the port field and the panel client."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from provisioning.models import Server
from provisioning.validators import HOST_ERROR, validate_panel_host
from vpnpanel import build_base_url

pytestmark = pytest.mark.django_db

TOKEN = "panel-token-4f9c2b7e1d"

REJECTED_IN_THE_FORM = [
    pytest.param("127.0.0.1:8000/healthz#", id="port-path-fragment"),
    pytest.param("user:pw@host", id="userinfo"),
    pytest.param("host/path?x=", id="path-query"),
    pytest.param("http://host", id="scheme"),
    pytest.param("vpn fra.example.com", id="space"),
]
ACCEPTED = [
    pytest.param("vpn-fra.example.com", id="dns-name"),
    pytest.param("127.0.0.1", id="ipv4"),
    pytest.param("::1", id="ipv6"),
    pytest.param("[2001:db8::1]", id="ipv6-bracketed"),
    pytest.param("xn--bcher-kva.example", id="idn-punycode"),
    pytest.param("panel", id="single-label"),
]


def add_server(admin_client, hostname: str):
    data = {
        "name": "fra",
        "hostname": hostname,
        "ip_address": "",
        "port": "8098",
        "secure": "on",
        "api_token": TOKEN,
        "max_accounts": "",
        "enabled": "on",
    }
    return admin_client.post(reverse("admin:provisioning_server_add"), data)


@pytest.mark.parametrize("hostname", REJECTED_IN_THE_FORM)
def test_host_with_url_parts_is_refused_with_what_is_allowed(admin_client, hostname):
    response = add_server(admin_client, hostname)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hostname"] == [HOST_ERROR]
    assert escape(HOST_ERROR) in response.content.decode()
    assert not Server.objects.exists()


@pytest.mark.parametrize("hostname", ACCEPTED)
def test_bare_host_name_or_ip_literal_is_saved_and_usable_by_the_client(admin_client, hostname):
    response = add_server(admin_client, hostname)

    assert response.status_code == 302
    server = Server.objects.get()
    assert server.hostname == hostname
    assert build_base_url(hostname=server.hostname, port=server.port, secure=True)


def test_host_error_says_what_is_allowed():
    for allowed in ("host name", "IP address", "vpn-fra.example.com", "port"):
        assert allowed in HOST_ERROR


@pytest.mark.parametrize(
    "value",
    [
        "bücher.example",
        "example.com.",
        "a..b",
        "-vpn.example.com",
        "vpn-.example.com",
        "panel_1.lan",
        f"{'a' * 64}.example.com",
        ".".join(["a" * 63] * 4),
        "127.1",
        "2130706433",
        "0x7f000001",
        "fe80::1%eth0",
        "[127.0.0.1]",
        "[::1",
        "vpn.example.com\n",
        "",
    ],
)
def test_validator_refuses_what_is_not_a_bare_host(value):
    with pytest.raises(ValidationError) as caught:
        validate_panel_host(value)

    assert caught.value.messages == [HOST_ERROR]


@pytest.mark.parametrize("value", ACCEPTED)
def test_validator_accepts_what_the_client_accepts(value):
    validate_panel_host(value)

    assert build_base_url(hostname=value, secure=True)
