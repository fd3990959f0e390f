"""The whole loop on one machine: the portal's check asks a real licence server (this portal's
own /licensing/verify/, served by a live server) and records success; with the server down it
verifies offline, and a tampered key is invalid either way."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.checks import OFFLINE_NOTE, licence_check
from licensing.status import licence_status_row
from tests.licensing.conftest import tampered


def closed_port_url() -> str:
    """A URL on a local port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/licensing/verify/"


@pytest.fixture
def server_url(live_server, licensing) -> str:
    licensing.LICENSING_SERVER_URL = f"{live_server.url}/licensing/verify/"
    return licensing.LICENSING_SERVER_URL


def test_online_then_server_down_then_tampered(server_url, licensing, sign):
    key = sign(recheck_seconds=900)

    online = licence_check(product_id=7, key=key)
    assert online.ok, online.error
    assert licence_status_row(7, key).startswith("success: ")

    refused = licence_check(product_id=7, key=tampered(key))
    assert "signature does not match" in refused.error
    assert OFFLINE_NOTE not in refused.error  # the server answered

    licensing.LICENSING_SERVER_URL = closed_port_url()
    offline = licence_check(product_id=7, key=key)
    assert offline.ok, offline.error
    assert licence_status_row(7, key).startswith("success: ")

    offline_refused = licence_check(product_id=7, key=tampered(key))
    assert "signature does not match" in offline_refused.error
    assert offline_refused.error.endswith(OFFLINE_NOTE)
    assert licence_status_row(7, tampered(key)) == offline_refused.error


def test_the_live_server_refuses_an_expired_key_that_offline_grace_would_still_accept(
    server_url, licensing, sign
):
    key = sign(expires_at=timezone.now() - timedelta(days=1))

    assert "expired on" in licence_check(product_id=7, key=key).error

    licensing.LICENSING_SERVER_URL = closed_port_url()
    assert licence_check(product_id=7, key=key).ok
