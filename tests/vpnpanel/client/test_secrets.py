"""The API token never leaves the Authorization header: not in reprs, errors, logs or records."""

from __future__ import annotations

import json
import logging
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from vpnpanel import PanelClient, PanelError, PanelUnreachable, RetryPolicy
from vpnpanel.client import BearerAuth

from .samples import API, BASE_URL, TOKEN, failure, ok

LEAKY_PAGE = (
    f"<html><body><h1>500</h1><pre>HTTP_AUTHORIZATION = 'Bearer {TOKEN}'\n"
    f"token={TOKEN}</pre></body></html>"
)
CONNECTION_REFUSED = (
    "HTTPSConnectionPool(host='vpn-fra.example.com', port=443): Max retries exceeded with url: "
    "/api/v1/license (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at "
    "0x7f00>: Failed to establish a new connection: [Errno 111] Connection refused'))"
)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="vpnpanel")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    return caplog


UNFIT_TOKENS = [
    pytest.param(f"{TOKEN}\r", id="carriage-return"),
    pytest.param(f"{TOKEN}\n", id="newline"),
    pytest.param(f"{TOKEN}\r\nX-Injected: 1", id="header-injection"),
    pytest.param(f" {TOKEN}", id="leading-space"),
    pytest.param(f"Bearer {TOKEN}", id="inner-space"),
    pytest.param(f"{TOKEN}\t", id="tab"),
    pytest.param(f"{TOKEN}\x00", id="nul"),
    pytest.param(f"{TOKEN}\x7f", id="del"),
    pytest.param(f"{TOKEN}é", id="latin-1"),
    pytest.param(f"{TOKEN}€", id="not-latin-1"),
]
BUILDERS = [
    pytest.param(lambda token: PanelClient("https://p.example", token), id="client"),
    pytest.param(
        lambda token: PanelClient.from_parts(hostname="p.example", secure=True, token=token),
        id="from-parts",
    ),
    pytest.param(BearerAuth, id="auth"),
]


def _assert_no_token(*values: object) -> None:
    for value in values:
        assert TOKEN not in str(value)
        assert TOKEN not in repr(value)


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("token", UNFIT_TOKENS)
def test_token_unfit_for_a_header_is_refused_without_repeating_it(build, token):
    with pytest.raises(ValueError, match="cannot be sent in an HTTP header") as caught:
        build(token)

    assert str(caught.value) == (
        "The panel API token contains characters that cannot be sent in an HTTP header"
    )
    _assert_no_token(caught.value, caught.value.args, caught.value.__context__)


@pytest.mark.parametrize("build", BUILDERS)
def test_empty_token_is_refused(build):
    with pytest.raises(ValueError, match="The panel API token is empty"):
        build("")


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(ValueError(f"Invalid header value b'Bearer {TOKEN}\\r'"), id="value"),
        pytest.param(
            UnicodeEncodeError("latin-1", f"Bearer {TOKEN}€", 42, 43, "ordinal not in range(256)"),
            id="unicode",
        ),
    ],
)
def test_header_refused_by_the_http_stack_is_permanent_and_without_the_token(
    http, client, records, debug_logs, error
):
    http.post(f"{API}client", body=error)

    with pytest.raises(PanelUnreachable) as caught:
        client.create_client(name="x")

    raised = caught.value
    assert raised.permanent
    assert not raised.maybe_applied
    assert "could not be encoded" in str(raised)
    assert raised.__cause__ is None
    assert raised.__context__ is None
    _assert_no_token(raised, raised.args, vars(raised))
    assert TOKEN.encode() not in pickle.dumps(raised)
    _assert_no_token(*(record.as_dict() for record in records))
    assert TOKEN not in debug_logs.text


def test_client_repr_and_attributes_hide_the_token(client):
    _assert_no_token(client, vars(client) if hasattr(client, "__dict__") else "")
    assert repr(client) == "<PanelClient 'vpn-fra' https://vpn-fra.example.com>"


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [
        (401, {"json": failure(f"Not authorized: {TOKEN}")}),
        (500, {"body": LEAKY_PAGE}),
        (422, {"json": failure(f"Bad token {TOKEN}", {"token": f"Bearer {TOKEN}"})}),
        (200, {"json": {"echo": TOKEN}}),
        (200, {"json": ok("not a list", message=TOKEN)}),
    ],
)
def test_errors_records_and_logs_never_contain_the_token(
    http, client, records, debug_logs, status, kwargs
):
    http.get(f"{API}network", status=status, **kwargs)

    with pytest.raises(PanelError) as caught:
        client.networks()

    error = caught.value
    _assert_no_token(error, error.args, vars(error), error.api_message)
    assert TOKEN.encode() not in pickle.dumps(error)
    _assert_no_token(*(record.as_dict() for record in records))
    assert TOKEN not in debug_logs.text
    assert records


def test_transport_errors_never_contain_the_token(http, client, records, debug_logs):
    http.get(f"{API}license", body=requests.exceptions.ConnectionError(f"reset ({TOKEN})"))

    with pytest.raises(PanelError) as caught:
        client.license()

    _assert_no_token(caught.value, caught.value.args)
    _assert_no_token(*(record.as_dict() for record in records))
    assert TOKEN not in debug_logs.text


def test_short_token_does_not_mangle_the_error_text(http, records):
    """A one-character token once turned "Connection refused" into "Connec***ion refused"."""
    http.get(f"{API}license", body=requests.exceptions.ConnectionError(CONNECTION_REFUSED))
    panel = PanelClient(BASE_URL, "t", retry=RetryPolicy(attempts=1), on_call=records.append)

    with panel, pytest.raises(PanelUnreachable) as caught:
        panel.license()

    assert str(caught.value).endswith("could not be reached for GET license: Connection refused.")
    assert records[0].error == str(caught.value)


def test_long_token_inside_an_error_text_is_still_masked(http, client, records, debug_logs):
    http.get(f"{API}license", body=requests.exceptions.ConnectionError(f"refused{TOKEN}here"))

    with pytest.raises(PanelError) as caught:
        client.license()

    _assert_no_token(caught.value, caught.value.args)
    _assert_no_token(*(record.as_dict() for record in records))
    assert TOKEN not in debug_logs.text


def test_successful_calls_log_and_record_without_the_token(http, client, records, debug_logs):
    http.get(f"{API}license", json=ok({"valid": True, "note": TOKEN}))

    client.license()

    _assert_no_token(*(record.as_dict() for record in records))
    assert TOKEN not in debug_logs.text
    assert "Panel call" in debug_logs.text


class _PanelHandler(BaseHTTPRequestHandler):
    seen_authorization: list[str] = []

    def do_GET(self) -> None:
        self.seen_authorization.append(self.headers.get("Authorization", ""))
        body = json.dumps(ok({"valid": True})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def loopback_panel() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PanelHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_real_http_stack_debug_logs_omit_the_token(loopback_panel, debug_logs):
    """Through urllib3 for real (a loopback server), so its DEBUG connection logs are included."""
    _PanelHandler.seen_authorization.clear()

    with PanelClient(loopback_panel, TOKEN, retry=RetryPolicy(attempts=1)) as client:
        assert client.license().valid

    assert _PanelHandler.seen_authorization == [f"Bearer {TOKEN}"]
    assert any(record.name.startswith("urllib3") for record in debug_logs.records)
    assert TOKEN not in debug_logs.text


@pytest.mark.parametrize(
    "token", [f"{TOKEN}\r", f"{TOKEN}€"], ids=["carriage-return", "non-latin-1"]
)
def test_real_http_stack_refusing_the_header_is_not_retried_and_not_leaked(
    loopback_panel, debug_logs, token
):
    """Were the token check bypassed, http.client's own refusal must not leak the header either."""
    _PanelHandler.seen_authorization.clear()

    with PanelClient(loopback_panel, TOKEN, retry=RetryPolicy(attempts=3)) as client:
        client._auth.token = token
        with pytest.raises(PanelUnreachable) as caught:
            client.license()

    assert caught.value.permanent
    assert _PanelHandler.seen_authorization == []
    _assert_no_token(caught.value, caught.value.args, caught.value.__context__)
    assert TOKEN not in debug_logs.text
