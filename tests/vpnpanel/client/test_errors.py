"""Every failure becomes one typed PanelError that says whether a retry may help."""

from __future__ import annotations

import pickle
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import requests

from vpnpanel import (
    PanelAuthError,
    PanelBadResponse,
    PanelClient,
    PanelError,
    PanelNotFound,
    PanelRejected,
    PanelUnreachable,
    RetryPolicy,
    Timeouts,
)

from .samples import API, BASE_URL, TOKEN, failure, ok, old_failure

BAD_GATEWAY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@pytest.fixture
def single_try(make_client):
    return make_client(retry=RetryPolicy(attempts=1))


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [
        (401, {"json": failure("Not authorized")}),
        (403, {"json": failure("Forbidden")}),
        (200, {"json": old_failure("Not authorized")}),
        (401, {"body": "<html>401 Authorization Required</html>"}),
        (403, {"json": {"detail": "Forbidden"}}),
    ],
)
def test_refused_token_is_a_permanent_auth_error(http, client, status, kwargs):
    http.get(f"{API}system/status", status=status, **kwargs)

    with pytest.raises(PanelAuthError) as caught:
        client.system_status()

    assert caught.value.permanent
    assert "refused the API token for GET system/status" in str(caught.value)
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, failure("Account not found")),
        (200, old_failure("Account not found")),
        (422, failure("Network not found")),
    ],
)
def test_missing_object_is_a_permanent_not_found(http, client, status, body):
    http.delete(f"{API}client/gone", status=status, json=body)

    with pytest.raises(PanelNotFound) as caught:
        client.delete_client("gone")

    assert caught.value.permanent
    assert caught.value.api_message.endswith("not found")
    assert (caught.value.method, caught.value.path) == ("DELETE", "client/gone")


def test_html_404_is_not_mistaken_for_a_missing_client(http, client):
    """A 404 page from a proxy must never let a terminate count as done."""
    http.delete(f"{API}client/x", status=404, body="<html><h1>404 Not Found</h1></html>")

    with pytest.raises(PanelBadResponse) as caught:
        client.delete_client("x")

    assert caught.value.permanent
    assert "host and port" in str(caught.value)


def test_validation_error_keeps_message_and_field_errors(http, client):
    http.post(
        f"{API}client",
        status=422,
        json=failure("The name is already in use", {"name": "The name is already in use"}),
    )

    with pytest.raises(PanelRejected) as caught:
        client.create_client(name="x")

    error = caught.value
    assert error.permanent
    assert error.api_message == "The name is already in use"
    assert error.field_errors == {"name": "The name is already in use"}
    assert str(error) == (
        f"Panel vpn-fra ({BASE_URL}) rejected POST client: The name is already in use"
    )


def test_field_errors_fill_in_a_missing_message(http, client):
    http.put(
        f"{API}client/x",
        status=422,
        json=failure("", {"b_download": ["Wrong bandwidth (0-10000)", "too big"]}),
    )

    with pytest.raises(PanelRejected, match=r"b_download: Wrong bandwidth \(0-10000\); too big"):
        client.update_client("x", b_download=99999)


def test_business_error_inside_a_200_is_a_permanent_rejection(http, client):
    http.post(f"{API}client", json=old_failure("VPN account limit exceeded"))

    with pytest.raises(PanelRejected, match="VPN account limit exceeded") as caught:
        client.create_client()

    assert caught.value.permanent
    assert caught.value.status == 200


def test_server_error_envelope_is_a_transient_rejection(http, single_try):
    http.get(f"{API}license", status=500, json=failure("Injected fault"))

    with pytest.raises(PanelRejected) as caught:
        single_try.license()

    assert caught.value.transient
    assert "failed GET license (HTTP 500): Injected fault" in str(caught.value)


def test_rate_limit_is_transient_and_carries_retry_after(http, single_try):
    http.get(f"{API}license", status=429, json=failure("Slow down"), headers={"Retry-After": "7"})

    with pytest.raises(PanelRejected) as caught:
        single_try.license()

    assert caught.value.transient
    assert caught.value.retry_after == 7


def test_html_error_page_from_a_proxy_is_a_transient_bad_response(http, single_try):
    http.get(f"{API}system/status", status=502, body=BAD_GATEWAY_PAGE)

    with pytest.raises(PanelBadResponse) as caught:
        single_try.system_status()

    message = str(caught.value)
    assert caught.value.transient
    assert "with an HTML page (HTTP 502)" in message
    assert "502 Bad Gateway" in message
    assert "<" not in message


def test_garbage_body_with_200_is_a_transient_bad_response(http, single_try):
    http.get(f"{API}system/status", body=b"\x00\xffnot json at all")

    with pytest.raises(PanelBadResponse, match="non-JSON answer") as caught:
        single_try.system_status()

    assert caught.value.transient
    assert "not json at all" in str(caught.value)
    assert "\x00" not in str(caught.value)


def test_json_without_envelope_is_a_bad_response(http, client):
    http.get(f"{API}license", json={"valid": True})

    with pytest.raises(PanelBadResponse, match="without a panel envelope"):
        client.license()


def test_success_envelope_with_server_error_status_is_a_transient_bad_response(http, single_try):
    http.get(f"{API}license", status=503, json=ok({"valid": True}))

    with pytest.raises(PanelBadResponse) as caught:
        single_try.license()

    assert caught.value.transient


@pytest.mark.parametrize(
    ("call", "url", "payload", "complaint"),
    [
        ("networks", "network", "oops", "expected a list of networks, got a str"),
        ("clients", "client", [1, 2], "expected each of the clients as a JSON object"),
        ("license", "license", [], "expected the licence as a JSON object, got a list"),
        ("online_sessions", "client/online", "nobody", "expected a list of online sessions"),
    ],
)
def test_wrong_payload_shape_is_a_permanent_bad_response(
    http, client, call, url, payload, complaint
):
    http.get(f"{API}{url}", json=ok(payload))

    with pytest.raises(PanelBadResponse) as caught:
        getattr(client, call)()

    assert caught.value.permanent
    assert f"sent an unexpected answer to GET {url}: {complaint}" in str(caught.value)


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ({"count_accounts": "many", "count_accounts_available": 50}, "'count_accounts'"),
        ({"count_accounts": 1}, "'count_accounts_available' is missing"),
        ({"count_accounts": 1, "count_accounts_available": True}, "whole number"),
    ],
)
def test_wrong_field_type_names_the_field(http, client, payload, complaint):
    http.get(f"{API}system/status", json=ok(payload))

    with pytest.raises(PanelBadResponse, match=complaint):
        client.system_status()


def test_unknown_client_status_is_a_bad_response(http, client):
    http.get(f"{API}client/x", json=ok({"name": "x", "status": "paused"}))

    with pytest.raises(PanelBadResponse, match="enable or disable"):
        client.get_client("x")


def test_empty_qr_is_a_bad_response(http, client):
    http.get(f"{API}client/x/config/qr", json=ok(""))

    with pytest.raises(PanelBadResponse, match="non-empty text"):
        client.wireguard_qr("x")


def test_redirect_is_not_followed(http, client):
    http.get(
        f"{API}license",
        status=301,
        headers={"Location": "https://elsewhere.example/api/v1/license"},
    )

    with pytest.raises(PanelBadResponse) as caught:
        client.license()

    assert caught.value.permanent
    assert "redirected GET license to https://elsewhere.example/api/v1/license" in str(caught.value)
    assert len(http.calls) == 1


def test_refused_connection_is_transient_unreachable(http, single_try):
    http.get(
        f"{API}license",
        body=requests.exceptions.ConnectionError(
            "HTTPSConnectionPool(host='vpn-fra.example.com', port=443): Max retries exceeded with "
            "url: /api/v1/license (Caused by NewConnectionError("
            "'<urllib3.connection.HTTPSConnection object at 0x7f00>: Failed to establish a new "
            "connection: [Errno 111] Connection refused'))"
        ),
    )

    with pytest.raises(PanelUnreachable) as caught:
        single_try.license()

    assert caught.value.transient
    assert caught.value.status is None
    assert str(caught.value) == (
        f"Panel vpn-fra ({BASE_URL}) could not be reached for GET license: Connection refused."
    )


def test_connect_timeout_is_transient_unreachable(http, single_try):
    http.get(f"{API}license", body=requests.exceptions.ConnectTimeout("timed out"))

    with pytest.raises(PanelUnreachable, match="did not accept a connection within 5s") as caught:
        single_try.license()

    assert caught.value.transient


def test_read_timeout_is_transient_unreachable(http, single_try):
    http.get(f"{API}license", body=requests.exceptions.ReadTimeout("Read timed out."))

    with pytest.raises(PanelUnreachable, match="did not answer GET license within 20s") as caught:
        single_try.license()

    assert caught.value.transient


def test_read_timeout_on_create_warns_the_write_may_have_happened(http, client):
    http.post(f"{API}client", body=requests.exceptions.ReadTimeout("Read timed out."))

    with pytest.raises(PanelUnreachable, match="may have been applied") as caught:
        client.create_client(name="x")

    assert caught.value.transient


def test_dropped_connection_is_transient_unreachable(http, single_try):
    http.get(f"{API}license", body=requests.exceptions.ChunkedEncodingError("Connection broken"))

    with pytest.raises(PanelUnreachable, match="dropped the connection") as caught:
        single_try.license()

    assert caught.value.transient


def test_tls_verification_failure_is_permanent_unreachable(http, client):
    http.get(
        f"{API}license",
        body=requests.exceptions.SSLError(
            "HTTPSConnectionPool(host='vpn-fra.example.com', port=443): Max retries exceeded with "
            "url: /api/v1/license (Caused by SSLError(SSLCertVerificationError(1, '[SSL: "
            "CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate "
            "(_ssl.c:1006)')))"
        ),
    )

    with pytest.raises(PanelUnreachable) as caught:
        client.license()

    assert caught.value.permanent
    assert str(caught.value).startswith(
        f"TLS certificate verification failed for panel vpn-fra ({BASE_URL}) (GET license): "
        "certificate verify failed: self-signed certificate."
    )
    assert len(http.calls) == 1


def test_tls_handshake_failure_suggests_checking_secure(http, client):
    http.get(f"{API}license", body=requests.exceptions.SSLError("[SSL] record layer failure"))

    with pytest.raises(PanelUnreachable, match="untick Secure") as caught:
        client.license()

    assert caught.value.permanent


def _ssl_error(cause: str, path: str = "license") -> requests.exceptions.SSLError:
    return requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='vpn-fra.example.com', port=443): Max retries exceeded with "
        f"url: /api/v1/{path} (Caused by SSLError({cause}))"
    )


CERTIFICATE_FAILURES = [
    "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "certificate has expired (_ssl.c:1006)')",
    "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "self-signed certificate in certificate chain (_ssl.c:1006)')",
    'SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: '
    "Hostname mismatch, certificate is not valid for 'vpn-fra.example.com'. (_ssl.c:1006)\")",
    "CertificateError(\"hostname 'vpn-fra.example.com' doesn't match 'other.example.com'\")",
]
PROTOCOL_FAILURES = [
    "SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')",
    "SSLError(1, '[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1010)')",
    "SSLError(1, '[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1006)')",
]
INTERRUPTIONS = [
    "SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol "
    "(_ssl.c:1006)')",
    "SSLZeroReturnError(6, 'TLS/SSL connection has been closed (EOF) (_ssl.c:1006)')",
    "ConnectionResetError(104, 'Connection reset by peer')",
]


@pytest.mark.parametrize("cause", CERTIFICATE_FAILURES)
def test_tls_certificate_problems_are_permanent(http, client, cause):
    http.get(f"{API}license", body=_ssl_error(cause))

    with pytest.raises(PanelUnreachable) as caught:
        client.license()

    assert caught.value.permanent
    assert str(caught.value).startswith("TLS certificate verification failed for panel vpn-fra")
    assert len(http.calls) == 1


@pytest.mark.parametrize("cause", PROTOCOL_FAILURES)
def test_tls_protocol_mismatch_is_permanent(http, client, cause):
    http.get(f"{API}license", body=_ssl_error(cause))

    with pytest.raises(PanelUnreachable, match="untick Secure") as caught:
        client.license()

    assert caught.value.permanent
    assert len(http.calls) == 1


@pytest.mark.parametrize("cause", INTERRUPTIONS)
def test_interrupted_tls_handshake_is_transient_and_retried(http, client, sleeps, cause):
    http.get(f"{API}license", body=_ssl_error(cause))
    http.get(f"{API}license", json=ok({"valid": True}))

    assert client.license().valid
    assert len(http.calls) == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize("cause", INTERRUPTIONS)
def test_interrupted_tls_handshake_says_so(http, single_try, cause):
    http.get(f"{API}license", body=_ssl_error(cause))

    with pytest.raises(PanelUnreachable) as caught:
        single_try.license()

    assert caught.value.transient
    assert str(caught.value).startswith(
        f"TLS handshake interrupted for panel vpn-fra ({BASE_URL}) (GET license): "
    )


def test_client_name_in_the_url_does_not_decide_the_tls_verdict(http, client):
    name = "certificate-expired"
    http.get(f"{API}client/{name}", body=_ssl_error(INTERRUPTIONS[0], f"client/{name}"))
    http.get(f"{API}client/{name}", json=ok({"name": name, "status": "enable"}))

    assert client.get_client(name).name == name


@pytest.fixture
def tcp_server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """Start a loopback TCP server that treats each connection with the given function."""
    servers: list[socket.socket] = []
    connections: list[socket.socket] = []

    def start(treat: Callable[[socket.socket], None]) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return
                connections.append(connection)
                treat(connection)

        threading.Thread(target=serve, daemon=True).start()
        return f"https://127.0.0.1:{server.getsockname()[1]}"

    yield start
    for sock in connections + servers:
        sock.close()


def test_real_tls_hang_up_during_the_handshake_is_retried(tcp_server, sleeps):
    url = tcp_server(lambda connection: connection.shutdown(socket.SHUT_WR))
    retry = RetryPolicy(attempts=3, backoff=0.01, jitter=0)

    panel = PanelClient(url, TOKEN, retry=retry, timeouts=Timeouts(2, 2), sleep=sleeps.append)

    with panel, pytest.raises(PanelUnreachable, match="TLS handshake interrupted") as caught:
        panel.license()

    assert caught.value.transient
    assert len(sleeps) == 2


def test_real_plain_http_on_a_tls_port_is_permanent(tcp_server, sleeps):
    url = tcp_server(lambda connection: connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"))

    panel = PanelClient(url, TOKEN, timeouts=Timeouts(2, 2), sleep=sleeps.append)

    with panel, pytest.raises(PanelUnreachable, match="untick Secure") as caught:
        panel.license()

    assert caught.value.permanent
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        PanelRejected(
            "m", transient=True, status=500, method="PUT", path="client/x", field_errors={"a": "b"}
        ),
        PanelAuthError("m", status=401),
        PanelNotFound("m", api_message="Account not found"),
        PanelUnreachable("m", transient=False),
        PanelBadResponse("m", transient=True, retry_after=3.0),
        PanelUnreachable("m", transient=True, method="POST", path="client", maybe_applied=True),
    ],
)
def test_errors_survive_pickling_for_task_results(error):
    restored = pickle.loads(pickle.dumps(error))  # noqa: S301

    assert type(restored) is type(error)
    assert vars(restored) == vars(error)
    assert restored.args == error.args


def test_every_panel_error_shares_one_base():
    for cls in (PanelUnreachable, PanelAuthError, PanelNotFound, PanelRejected, PanelBadResponse):
        assert issubclass(cls, PanelError)
    assert PanelAuthError("m", transient=True).permanent
    assert PanelError("m", transient=True).maybe_applied is False
