"""Retries: only calls that are safe to repeat, only on transient failures, with backoff."""

from __future__ import annotations

import logging

import pytest
import requests

from vpnpanel import (
    PanelAuthError,
    PanelBadResponse,
    PanelNotFound,
    PanelRejected,
    PanelUnreachable,
    RetryPolicy,
    Timeouts,
)

from .samples import API, CLIENT, failure, ok


def test_get_is_retried_after_a_503_and_then_succeeds(http, client, sleeps):
    http.get(f"{API}license", status=503, json=failure("Busy"))
    http.get(f"{API}license", json=ok({"valid": True}))

    assert client.license().valid
    assert len(http.calls) == 2
    assert sleeps == [0.5]


def test_backoff_doubles_until_attempts_run_out(http, client, sleeps):
    http.get(f"{API}license", status=503, json=failure("Busy"))

    with pytest.raises(PanelRejected) as caught:
        client.license()

    assert caught.value.transient
    assert len(http.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_put_is_retried_on_a_bad_gateway_page(http, client):
    http.put(f"{API}client/x", status=502, body="<html>Bad Gateway</html>")
    http.put(f"{API}client/x", json=ok(CLIENT))

    assert client.update_client("x", b_download=5).name == "vpn-1-2-abcd"
    assert len(http.calls) == 2


def test_delete_is_retried_after_a_dropped_connection(http, client):
    http.delete(f"{API}client/x", body=requests.exceptions.ConnectionError("reset"))
    http.delete(f"{API}client/x", json=ok(None))

    client.delete_client("x")

    assert len(http.calls) == 2


def test_create_is_never_retried_on_a_server_error(http, client, sleeps):
    http.post(f"{API}client", status=503, json=failure("Busy"))

    with pytest.raises(PanelRejected):
        client.create_client(name="x")

    assert len(http.calls) == 1
    assert sleeps == []


def test_create_is_never_retried_after_a_timeout(http, client):
    http.post(f"{API}client", body=requests.exceptions.ReadTimeout("Read timed out."))

    with pytest.raises(PanelUnreachable):
        client.create_client(name="x")

    assert len(http.calls) == 1


def test_one_time_link_is_never_retried(http, client):
    http.post(f"{API}client/x/otl", body=requests.exceptions.ConnectionError("reset"))

    with pytest.raises(PanelUnreachable):
        client.create_otl("x")

    assert len(http.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (422, failure("Wrong bandwidth (0-10000)"), PanelRejected),
        (401, failure("Not authorized"), PanelAuthError),
        (404, failure("Account not found"), PanelNotFound),
        (404, "<html>Not Found</html>", PanelBadResponse),
    ],
)
def test_permanent_errors_are_not_retried(http, client, sleeps, status, body, error):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    http.get(f"{API}client/x", status=status, **kwargs)

    with pytest.raises(error):
        client.get_client("x")

    assert len(http.calls) == 1
    assert sleeps == []


def test_garbage_with_a_success_status_is_asked_again(http, client, sleeps):
    http.get(f"{API}client/x", body=b"\x00garbage")
    http.get(f"{API}client/x", json={"result": "OK", "data": {"name": "x", "status": "enable"}})

    assert client.get_client("x").name == "x"
    assert len(http.calls) == 2
    assert len(sleeps) == 1


def test_tls_failure_is_not_retried(http, client):
    http.get(f"{API}license", body=requests.exceptions.SSLError("certificate verify failed"))

    with pytest.raises(PanelUnreachable):
        client.license()

    assert len(http.calls) == 1


def test_retry_after_is_honoured(http, client, sleeps):
    http.get(f"{API}license", status=429, json=failure("Slow down"), headers={"Retry-After": "2"})
    http.get(f"{API}license", json=ok({"valid": True}))

    client.license()

    assert sleeps == [2.0]


def test_retry_after_beyond_max_backoff_is_left_to_the_caller(http, client, sleeps):
    http.get(f"{API}license", status=503, json=failure("Later"), headers={"Retry-After": "120"})

    with pytest.raises(PanelRejected) as caught:
        client.license()

    assert caught.value.retry_after == 120
    assert len(http.calls) == 1
    assert sleeps == []


def test_a_single_attempt_policy_never_retries(http, make_client):
    http.get(f"{API}license", status=503, json=failure("Busy"))

    with pytest.raises(PanelRejected):
        make_client(retry=RetryPolicy(attempts=1)).license()

    assert len(http.calls) == 1


def test_on_call_receives_one_redacted_record_per_attempt(http, client, records):
    http.put(f"{API}client/x", status=500, json=failure("Injected fault"))
    http.put(f"{API}client/x", json=ok(CLIENT | {"private_key": "PRIV"}))

    client.update_client("x", password="hunter2", b_download=5)

    first, second = records
    assert (first.method, first.path, first.panel) == ("PUT", "client/x", "vpn-fra")
    assert (first.status, first.outcome, first.attempt) == (500, "error", 1)
    assert "Injected fault" in first.error
    assert (second.status, second.outcome, second.attempt, second.error) == (200, "ok", 2, "")
    assert first.request == {"password": "***", "b_download": 5}
    assert second.response["data"]["password"] == "***"
    assert second.response["data"]["private_key"] == "***"
    assert second.response["data"]["name"] == "vpn-1-2-abcd"
    assert all(record.duration_ms >= 0 for record in records)


def test_on_call_record_for_an_unreachable_panel_has_no_status(http, make_client, records):
    http.get(f"{API}license", body=requests.exceptions.ConnectTimeout("timed out"))

    with pytest.raises(PanelUnreachable):
        make_client(retry=RetryPolicy(attempts=1)).license()

    [record] = records
    assert (record.status, record.response, record.outcome) == (None, None, "error")


def test_long_bodies_are_truncated_in_records(http, client, records):
    http.get(f"{API}client/x/openvpn/profile", json=ok("client\n" + "A" * 5000))

    client.openvpn_profile("x")

    assert records[0].response["data"] == "<5007 chars>"


def test_a_failing_on_call_hook_does_not_break_the_call(http, make_client, caplog):
    def broken_hook(record):
        raise RuntimeError("log table is gone")

    http.get(f"{API}license", json=ok({"valid": True}))

    with caplog.at_level(logging.ERROR, logger="vpnpanel"):
        assert make_client(on_call=broken_hook).license().valid

    assert "on_call hook failed" in caplog.text


def test_each_attempt_is_logged_at_debug(http, client, caplog):
    http.get(f"{API}license", json=ok({"valid": True}))

    with caplog.at_level(logging.DEBUG, logger="vpnpanel"):
        client.license()

    assert "GET" in caplog.text
    assert "path='license'" in caplog.text


def test_retry_delay_grows_exponentially_with_capped_jitter():
    policy = RetryPolicy(attempts=5, backoff=1, max_backoff=5, jitter=0.5)

    assert policy.delay(1, rand=lambda: 0.0) == 1
    assert policy.delay(1, rand=lambda: 1.0) == 1.5
    assert policy.delay(2, rand=lambda: 0.0) == 2
    assert policy.delay(4, rand=lambda: 0.0) == 5


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"backoff": -1}, {"jitter": -0.1}, {"max_backoff": -1}]
)
def test_retry_policy_refuses_nonsense(kwargs):
    with pytest.raises(ValueError, match="Panel retry"):
        RetryPolicy(**kwargs)


def test_timeouts_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        Timeouts(connect=0, read=20)


def test_policies_default_to_the_modules_values():
    assert Timeouts() == Timeouts(connect=5, read=20)
    assert RetryPolicy() == RetryPolicy(attempts=3, backoff=0.5)
