"""``panel_for`` is the one way a PanelClient is made: settings in, every call in the module log."""

import re
from pathlib import Path

import pytest
from django.test import override_settings

from provisioning.models import ModuleLogEntry
from provisioning.panels import INTERACTIVE_RETRY, panel_for
from tests.factories import ServerFactory, ServiceFactory
from vpnpanel import RetryPolicy, Timeouts

pytestmark = pytest.mark.django_db


@override_settings(
    PANEL_CONNECT_TIMEOUT=2,
    PANEL_READ_TIMEOUT=9,
    PANEL_RETRY_ATTEMPTS=4,
    PANEL_RETRY_BACKOFF=0.1,
    PANEL_RETRY_MAX_BACKOFF=3,
    PANEL_RETRY_JITTER=0,
)
def test_background_clients_take_the_panel_settings():
    client = panel_for(ServerFactory(), action="test")

    assert client.timeouts == Timeouts(connect=2, read=9)
    assert client.retry == RetryPolicy(attempts=4, backoff=0.1, max_backoff=3, jitter=0)


def test_interactive_clients_make_one_attempt():
    assert panel_for(ServerFactory(), action="test", interactive=True).retry == INTERACTIVE_RETRY


def test_every_call_is_a_module_log_row_with_its_action_and_service(simulator):
    server = ServerFactory.for_simulator(simulator)
    service = ServiceFactory(server=server, product__group=server.group)

    with panel_for(server, action="probe", service=service) as panel:
        panel.system_status()
        assert panel.find_client("nobody") is None

    rows = ModuleLogEntry.objects.filter(server=server).order_by("pk")
    assert [(r.action, r.service_id, r.path, r.outcome) for r in rows] == [
        ("probe", service.pk, "system/status", "ok"),
        ("probe", service.pk, "client/nobody", "ok"),  # a name that is free is an answer
    ]
    assert rows[1].http_status == 404


def test_after_call_runs_after_each_call_is_recorded(simulator):
    server = ServerFactory.for_simulator(simulator)
    seen: list[int] = []

    def after(record) -> None:
        seen.append(ModuleLogEntry.objects.filter(server=server).count())

    with panel_for(server, action="probe", after_call=after) as panel:
        panel.system_status()
        panel.networks()

    assert seen == [1, 2]


def test_deferred_calls_are_handed_over_instead_of_written(simulator):
    server = ServerFactory.for_simulator(simulator)
    records = []

    with panel_for(server, action="probe", deferred_log=records.append) as panel:
        panel.system_status()

    assert [record.path for record in records] == ["system/status"]
    assert not ModuleLogEntry.objects.exists()


def test_no_module_but_the_factory_builds_a_panel_client():
    """``panel_for`` is the one way in: a PanelClient built anywhere else would skip the module
    log and the settings."""
    root = Path(__file__).resolve().parents[2]
    builders = re.compile(r"\bPanelClient(\.from_parts)?\(")
    found = [
        str(path.relative_to(root))
        for package in ("portal", "provisioning", "licensing")
        for path in (root / package).rglob("*.py")
        if builders.search(path.read_text())
    ]
    assert found == ["provisioning/panels.py"]
