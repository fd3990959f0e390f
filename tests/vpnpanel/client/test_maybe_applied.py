"""A create that failed after it may have reached the panel says so: the caller looks it up."""

from __future__ import annotations

import http.client

import pytest
import requests
from urllib3.exceptions import ProtocolError

from vpnpanel import PanelError, PanelUnreachable

from .samples import API, CLIENT, failure, ok

REFUSED = (
    "HTTPSConnectionPool(host='vpn-fra.example.com', port=443): Max retries exceeded with url: "
    "/api/v1/client (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at "
    "0x7f00>: Failed to establish a new connection: [Errno 111] Connection refused'))"
)
REMOTE_DISCONNECTED = requests.exceptions.ConnectionError(
    ProtocolError(
        "Connection aborted.",
        http.client.RemoteDisconnected("Remote end closed connection without response"),
    )
)
EOF_DURING_TLS = requests.exceptions.SSLError(
    "HTTPSConnectionPool(host='vpn-fra.example.com', port=443): Max retries exceeded with url: "
    "/api/v1/client (Caused by SSLError(SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF "
    "occurred in violation of protocol (_ssl.c:1006)')))"
)
SELF_SIGNED = requests.exceptions.SSLError(
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
)

MAYBE_APPLIED = [
    pytest.param({"body": requests.exceptions.ReadTimeout("Read timed out.")}, id="read-timeout"),
    pytest.param({"body": REMOTE_DISCONNECTED}, id="remote-disconnected"),
    pytest.param({"body": requests.exceptions.ChunkedEncodingError("broken")}, id="chunked"),
    pytest.param({"body": EOF_DURING_TLS}, id="tls-eof"),
    pytest.param({"status": 502, "body": "<html>Bad Gateway</html>"}, id="502-html"),
    pytest.param({"status": 504, "body": ""}, id="504-empty"),
    pytest.param({"status": 500, "json": {"detail": "oops"}}, id="500-no-envelope"),
    pytest.param({"status": 500, "json": ok(CLIENT)}, id="500-success-envelope"),
    pytest.param({"json": ok(CLIENT | {"name": ""})}, id="200-unusable-client"),
    pytest.param({"body": "<b>Warning</b>: PHP notice" + str(ok(CLIENT))}, id="200-not-json"),
]
NOT_APPLIED = [
    pytest.param({"body": requests.exceptions.ConnectTimeout("timed out")}, id="connect-timeout"),
    pytest.param({"body": requests.exceptions.ConnectionError(REFUSED)}, id="refused"),
    pytest.param({"body": SELF_SIGNED}, id="tls-certificate"),
    pytest.param({"status": 422, "json": failure("The name is already in use")}, id="422"),
    pytest.param({"json": failure("VPN account limit exceeded")}, id="200-rejection"),
    pytest.param({"status": 500, "json": failure("Injected fault")}, id="500-rejection"),
    pytest.param({"status": 503, "json": failure("Busy")}, id="503-rejection"),
    pytest.param({"status": 429, "body": "<html>Too Many Requests</html>"}, id="429"),
    pytest.param({"status": 401, "json": failure("Not authorized")}, id="401"),
    pytest.param({"status": 404, "body": "<html>Not Found</html>"}, id="404-html"),
    pytest.param({"status": 301, "headers": {"Location": "https://x.example/"}}, id="redirect"),
]


@pytest.mark.parametrize("answer", MAYBE_APPLIED)
def test_create_that_may_have_reached_the_panel_says_so(http, client, answer):
    http.post(f"{API}client", **answer)

    with pytest.raises(PanelError) as caught:
        client.create_client(name="x")

    assert caught.value.maybe_applied is True
    assert str(caught.value).endswith(". The request may have been applied; check the panel.")
    assert len(http.calls) == 1


@pytest.mark.parametrize("answer", NOT_APPLIED)
def test_create_that_did_not_reach_the_panel_or_was_refused_says_so(http, client, answer):
    http.post(f"{API}client", **answer)

    with pytest.raises(PanelError) as caught:
        client.create_client(name="x")

    assert caught.value.maybe_applied is False
    assert "may have been applied" not in str(caught.value)


def test_one_time_link_after_a_timeout_may_have_been_spent(http, client):
    http.post(f"{API}client/x/otl", body=requests.exceptions.ReadTimeout("Read timed out."))

    with pytest.raises(PanelUnreachable) as caught:
        client.create_otl("x")

    assert caught.value.maybe_applied


@pytest.mark.parametrize("answer", MAYBE_APPLIED)
def test_repeatable_calls_are_never_marked(http, client, answer):
    """PUT and DELETE are retried and safe to repeat: there is nothing to look up."""
    http.put(f"{API}client/x", **answer)

    with pytest.raises(PanelError) as caught:
        client.update_client("x", b_download=5)

    assert caught.value.maybe_applied is False
    assert "may have been applied" not in str(caught.value)


def test_maybe_applied_is_in_the_call_record(http, client, records):
    http.post(f"{API}client", status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(PanelError):
        client.create_client(name="x")

    assert records[-1].error.endswith("The request may have been applied; check the panel.")
