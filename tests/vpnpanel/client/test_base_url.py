"""The panel URL comes from the server record: Secure picks the scheme, hostname else IP, port."""

from __future__ import annotations

import pytest

from vpnpanel import PanelClient, build_base_url


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"hostname": "vpn.example.com", "secure": True}, "https://vpn.example.com"),
        ({"hostname": "vpn.example.com", "secure": False}, "http://vpn.example.com"),
        (
            {"hostname": "VPN.Example.com", "port": 8098, "secure": True},
            "https://vpn.example.com:8098",
        ),
        ({"ip": "203.0.113.5", "secure": False}, "http://203.0.113.5"),
        (
            {"hostname": "", "ip": "203.0.113.5", "port": 8098, "secure": True},
            "https://203.0.113.5:8098",
        ),
        (
            {"hostname": "vpn.example.com", "ip": "203.0.113.5", "secure": True},
            "https://vpn.example.com",
        ),
        ({"ip": "2001:db8::1", "secure": True}, "https://[2001:db8::1]"),
        ({"ip": "[2001:db8:0::1]", "port": 8098, "secure": False}, "http://[2001:db8::1]:8098"),
        ({"hostname": " panel_1.lan ", "secure": False}, "http://panel_1.lan"),
    ],
)
def test_base_url_follows_the_server_record(parts, expected):
    assert build_base_url(**parts) == expected


def test_secure_server_gets_https_with_tls_verification():
    client = PanelClient.from_parts(hostname="vpn.example.com", port=8098, secure=True, token="t")

    assert client.base_url == "https://vpn.example.com:8098"
    assert client.verify_tls is True


def test_from_parts_passes_other_options_through():
    client = PanelClient.from_parts(ip="203.0.113.5", secure=False, token="t", name="lab")

    assert (client.name, client.base_url) == ("lab", "http://203.0.113.5")


def test_a_server_without_host_or_ip_is_refused():
    with pytest.raises(ValueError, match="hostname or an IP"):
        build_base_url(hostname=" ", ip="", secure=True)


@pytest.mark.parametrize(
    "hostname",
    ["evil.example/path", "user@evil.example", "evil.example?x=1", "evil.example:80", "a b", "-x-"],
)
def test_hostnames_that_smuggle_url_parts_are_refused(hostname):
    with pytest.raises(ValueError, match="not a valid hostname"):
        build_base_url(hostname=hostname, secure=True)


@pytest.mark.parametrize("port", [0, 65536])
def test_out_of_range_ports_are_refused(port):
    with pytest.raises(ValueError, match="out of range"):
        build_base_url(hostname="vpn.example.com", port=port, secure=True)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://vpn.example.com/", "https://vpn.example.com"),
        ("https://vpn.example.com:8098/api/v1/", "https://vpn.example.com:8098"),
        ("http://vpn.example.com/panel", "http://vpn.example.com/panel"),
    ],
)
def test_base_url_is_normalised(given, expected):
    assert PanelClient(given, "t").base_url == expected


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://vpn.example.com",
        "vpn.example.com",
        "https://",
        "https://u:p@vpn.example.com",
        "https://h/?q=1",
    ],
)
def test_unusable_base_urls_are_refused(base_url):
    with pytest.raises(ValueError, match="Panel base URL"):
        PanelClient(base_url, "t")
