import time

import pytest
import requests

from tests.vpnpanel.simulator.panel_http import call, create_client, ok


def calls_to(simulator, method: str, path: str) -> list[dict]:
    return [
        c
        for c in simulator.knob("GET", "calls")
        if c["method"] == method and c["path"] == "/api/v1/" + path
    ]


def test_dropped_write_is_applied_but_gets_no_response(simulator):
    simulator.knob("POST", "faults", {"drop_after_write_next": 1})
    ok(simulator, "GET", "system/status")

    with pytest.raises(requests.ConnectionError):
        call(simulator, "POST", "client", {"name": "lost"})

    assert ok(simulator, "GET", "client/lost")["name"] == "lost"
    assert create_client(simulator, name="next")["name"] == "next"
    (dropped,) = calls_to(simulator, "POST", "client")[:1]
    assert (dropped["status"], dropped["fault"]) == (None, "drop_after_write")


def test_rejected_write_is_answered_and_does_not_spend_the_drop(simulator):
    simulator.knob("POST", "faults", {"drop_after_write_next": 1})

    refused = call(simulator, "POST", "client", {"name": "bad name!"})
    missing = call(simulator, "PUT", "client/ghost", {"b_upload": 1})

    assert (refused.status_code, refused.json()["result"]) == (422, "ERROR")
    assert missing.status_code == 404
    assert simulator.knob("GET", "faults")["drop_after_write_next"] == 1
    with pytest.raises(requests.ConnectionError):
        call(simulator, "POST", "client", {"name": "good"})
    assert ok(simulator, "GET", "client/good")["name"] == "good"
    assert simulator.knob("GET", "faults")["drop_after_write_next"] == 0


def test_rule_fails_matching_calls_without_applying_them(simulator):
    create_client(simulator, name="c")
    simulator.knob(
        "POST",
        "faults",
        {"rules": [{"method": "PUT", "path": r"^client/[^/]+$", "count": 1, "status": 500}]},
    )

    failed = call(simulator, "PUT", "client/c", {"b_download": 10})

    assert failed.status_code == 500
    assert failed.json() == {"result": "ERROR", "message": "Injected failure", "errors": {}}
    assert ok(simulator, "GET", "client/c")["b_download"] == 0
    assert ok(simulator, "PUT", "client/c", {"b_download": 10})["b_download"] == 10


def test_rules_can_fail_put_and_delete_together(simulator):
    create_client(simulator, name="c")
    rules = [
        {"method": "PUT", "path": "client/c", "count": 2, "message": "PUT broken"},
        {"method": "delete", "path": "client/c", "status": 503},
    ]
    simulator.knob("POST", "faults", {"rules": rules})

    assert call(simulator, "PUT", "client/c", {"status": "disable"}).json()["message"] == (
        "PUT broken"
    )
    assert call(simulator, "DELETE", "client/c").status_code == 503
    assert ok(simulator, "GET", "client/c")["status"] == "enable"
    assert simulator.knob("GET", "faults")["rules"][0]["count"] == 1


def test_rule_with_a_null_count_fails_every_matching_call_until_reset(simulator):
    create_client(simulator, name="c")
    rule = {"method": "GET", "path": "^client$", "status": 404, "message": "Not Found"}
    simulator.knob("POST", "faults", {"rules": [{**rule, "count": None}]})

    answers = [call(simulator, "GET", "client") for _ in range(5)]

    assert {(a.status_code, a.json()["message"]) for a in answers} == {(404, "Not Found")}
    assert ok(simulator, "GET", "client/c")["name"] == "c"
    assert simulator.knob("GET", "faults")["rules"][0]["count"] is None
    simulator.knob("POST", "reset")
    assert [c["name"] for c in ok(simulator, "GET", "client")] == ["c"]


def test_garbage_responses_are_200_and_not_json(simulator):
    simulator.knob("POST", "faults", {"garbage_next": 2})

    responses = [call(simulator, "POST", "client", {"name": "g"}) for _ in range(2)]

    for response in responses:
        assert response.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            response.json()
    assert ok(simulator, "GET", "client") == []


def test_html_error_is_a_502_page(simulator):
    simulator.knob("POST", "faults", {"html_error_next": 1})

    response = call(simulator, "GET", "system/status")

    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text
    assert call(simulator, "GET", "system/status").status_code == 200


def test_latency_is_added_to_every_api_call(simulator):
    simulator.knob("POST", "faults", {"latency_ms": 300})

    started = time.monotonic()
    ok(simulator, "GET", "system/status")

    assert time.monotonic() - started >= 0.3


def test_timed_out_call_hangs_then_answers(simulator):
    simulator.knob("POST", "faults", {"timeout_rate": 1, "hang_seconds": 1.0})

    with pytest.raises(requests.Timeout):
        call(simulator, "GET", "system/status", timeout=0.3)
    started = time.monotonic()
    assert call(simulator, "GET", "system/status", timeout=5).status_code == 200
    assert time.monotonic() - started >= 1.0


def test_error_rate_one_fails_every_call_with_a_500_envelope(simulator):
    simulator.knob("POST", "faults", {"error_rate": 1.0})

    response = call(simulator, "POST", "client", {"name": "x"})

    assert response.status_code == 500
    assert response.json()["result"] == "ERROR"
    simulator.knob("POST", "faults", {"error_rate": 0})
    assert ok(simulator, "GET", "client") == []


def test_error_rate_fails_some_calls(simulator_factory):
    simulator = simulator_factory(extra_args=["--error-rate=0.5"])

    statuses = {call(simulator, "GET", "license").status_code for _ in range(30)}

    assert statuses == {200, 500}


def test_fault_flags_apply_from_start(simulator_factory):
    simulator = simulator_factory(extra_args=["--html-error-next=1", "--latency-ms=10"])

    assert call(simulator, "GET", "license").status_code == 502
    assert simulator.knob("GET", "faults")["latency_ms"] == 10


def test_reset_clears_faults_but_keeps_data(simulator):
    create_client(simulator, name="c")
    simulator.knob("POST", "faults", {"error_rate": 1, "rules": [{"path": "."}]})

    simulator.knob("POST", "reset")

    assert ok(simulator, "GET", "client/c")["name"] == "c"
    state = simulator.knob("GET", "state")
    assert state["faults"]["error_rate"] == 0
    assert state["faults"]["rules"] == []


def test_invalid_fault_settings_are_refused(simulator):
    for bad in (
        {"error_rate": 2},
        {"nonsense": 1},
        {"rules": [{"path": "("}]},
        {"rules": [{"path": ".", "count": "many"}]},
        {"rules": [{"path": ".", "count": -1}]},
        {"garbage_next": -1},
    ):
        with pytest.raises(requests.HTTPError):
            simulator.knob("POST", "faults", bad)
    assert simulator.knob("GET", "faults")["error_rate"] == 0


def test_faults_spare_the_openapi_document_and_knobs(simulator):
    simulator.knob("POST", "faults", {"html_error_next": 5})

    assert requests.get(simulator.api_url + "openapi.json", timeout=5).status_code == 200
    assert simulator.knob("GET", "faults")["html_error_next"] == 5


def test_call_log_counts_api_calls_until_reset(simulator):
    create_client(simulator, name="c")
    ok(simulator, "PUT", "client/c", {"b_upload": 1})
    call(simulator, "GET", "client/ghost")

    calls = simulator.knob("GET", "calls")

    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("POST", "/api/v1/client", 200),
        ("PUT", "/api/v1/client/c", 200),
        ("GET", "/api/v1/client/ghost", 404),
    ]
    simulator.knob("POST", "calls/reset")
    assert simulator.knob("GET", "calls") == []


def test_state_knob_shows_networks_clients_slots_and_faults(simulator):
    create_client(simulator, name="c")
    simulator.knob("POST", "faults", {"latency_ms": 5})

    state = simulator.knob("GET", "state")

    assert [n["name"] for n in state["networks"]] == ["office", "lab"]
    assert [c["name"] for c in state["clients"]] == ["c"]
    assert state["slots"] == {"total": 50, "used": 1}
    assert state["faults"]["latency_ms"] == 5
