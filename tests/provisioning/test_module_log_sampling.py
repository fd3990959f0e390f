"""Module log of live-status polling: one logged success per panel per period, every failure."""

import time
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from provisioning.exceptions import PanelReadFailed
from provisioning.live import cache_keys, panel_online_sessions
from provisioning.models import ModuleLogEntry, Server
from provisioning.module_log import ModuleLogRecorder
from vpnpanel import CallRecord

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("private_cache")]

CHANGELIST = "admin:provisioning_modulelogentry_changelist"


def poll(server: Server) -> bool:
    """One poll that asks the panel (the interval's cached answer is dropped first)."""
    cache.delete(cache_keys(server).answer)
    try:
        panel_online_sessions(server)
    except PanelReadFailed:
        return False
    return True


def online_rows(server: Server) -> list[str]:
    rows = ModuleLogEntry.objects.filter(action="online", server=server).order_by("pk")
    return list(rows.values_list("outcome", flat=True))


def call_record(outcome: str = "ok") -> CallRecord:
    return CallRecord(
        panel="panel",
        method="GET",
        path="client/online",
        status=200 if outcome == "ok" else 500,
        duration_ms=1.0,
        request=None,
        response=None,
        outcome=outcome,
        error="" if outcome == "ok" else "boom",
        attempt=1,
    )


def test_many_successful_polls_write_one_row(simulator, server_for, settings):
    settings.MODULE_LOG_POLL_OK_MINUTES = 10
    server = server_for(simulator)

    results = [poll(server) for _ in range(6)]

    assert results == [True] * 6
    assert len([c for c in simulator.knob("GET", "calls") if c["path"].endswith("/online")]) == 6
    assert online_rows(server) == ["ok"]


def test_every_failed_poll_writes_its_row_and_the_recovery_is_logged(simulator, server_for):
    # given a logged success
    server = server_for(simulator)
    assert poll(server)

    # when the panel fails twice, then answers again twice
    simulator.knob("POST", "faults", {"error_rate": 1})
    failed = [poll(server), poll(server)]
    simulator.knob("POST", "faults", {"error_rate": 0})
    recovered = [poll(server), poll(server)]

    # then both failures and the first success after them are in the log
    assert failed == [False, False]
    assert recovered == [True, True]
    assert online_rows(server) == ["ok", "error", "error", "ok"]


def test_zero_minutes_logs_every_poll(simulator, server_for, settings):
    settings.MODULE_LOG_POLL_OK_MINUTES = 0
    server = server_for(simulator)

    for _ in range(3):
        assert poll(server)

    assert online_rows(server) == ["ok", "ok", "ok"]


def test_the_admins_module_log_shows_the_polls_failures(simulator, server_for, admin_client):
    # given a watched panel: many good polls, then a failing one
    server = server_for(simulator)
    for _ in range(3):
        assert poll(server)
    simulator.knob("POST", "faults", {"error_rate": 1})
    assert not poll(server)

    # when the admin filters the module log to this panel's polling failures
    response = admin_client.get(
        reverse(CHANGELIST),
        {"action": "online", "outcome": "error", "server__id__exact": server.pk},
    )

    # then the failure is there
    assert response.status_code == 200
    [row] = response.context["cl"].result_list
    assert row.outcome == "error"
    assert row.path.endswith("client/online")
    assert row.http_status == 500


def test_a_sampled_success_is_logged_again_once_its_period_is_over(server_for, simulator):
    server = server_for(simulator)
    recorder = ModuleLogRecorder(
        server=server,
        service=None,
        action="online",
        correlation_id=uuid.uuid4(),
        ok_reads_every_seconds=1,
    )

    recorder(call_record())
    recorder(call_record())
    time.sleep(1.2)
    recorder(call_record())

    assert online_rows(server) == ["ok", "ok"]


def test_sampling_is_per_server_and_action(server_for, simulator):
    one, two = server_for(simulator), server_for(simulator, name="panel-two")

    def record(server: Server, action: str) -> None:
        recorder = ModuleLogRecorder(
            server=server,
            service=None,
            action=action,
            correlation_id=uuid.uuid4(),
            ok_reads_every_seconds=600,
        )
        recorder(call_record())

    for _ in range(3):
        record(one, "online")
        record(two, "online")
        record(one, "other")

    assert online_rows(one) == ["ok"]
    assert online_rows(two) == ["ok"]
    assert ModuleLogEntry.objects.filter(action="other", server=one).count() == 1
