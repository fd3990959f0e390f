"""The service page asks a slow panel in parallel and renders within its time budget."""

import logging
import re
import threading
import time

import pytest
from django.test import Client
from django.utils import timezone

from provisioning.client_area.messages import read_failed
from provisioning.exceptions import PanelReadFailed, ReadFailure
from provisioning.models import ModuleLogEntry, Service, ServiceStatus
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

ALL_PROTOCOLS = ("wireguard", "amneziawg", "openvpn", "ikev2")
LATE = "after its page was done"
SLOW_MESSAGE = read_failed(PanelReadFailed(ReadFailure.TOO_SLOW), place="page")
UNREACHABLE_MESSAGE = read_failed(PanelReadFailed(ReadFailure.UNREACHABLE), place="page")


@pytest.fixture(autouse=True)
def log_every_call(settings):
    """These tests read the calls' timings from the module log: no sampling of good reads."""
    settings.MODULE_LOG_POLL_OK_MINUTES = 0


@pytest.fixture(autouse=True)
def no_calls_left_behind():
    """A page's late calls run on after it; the next test (on the same shared simulator) must
    not see their warnings, so each test ends when its calls have."""
    yield
    deadline = time.monotonic() + 10
    while any(t.name.startswith("panel-call") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "panel calls still running 10 s after the test"
        time.sleep(0.05)


@pytest.fixture
def service(simulator, server_for, product, customer) -> Service:
    """A provisioned service whose client sits on a network with all four protocols enabled."""
    simulator.knob(
        "POST",
        "networks",
        {
            "name": "every",
            "subnet": "10.0.9.0/28",
            **dict.fromkeys(ALL_PROTOCOLS, True),
            "description": "",
            "bandwidth_download": 0,
            "bandwidth_upload": 0,
        },
    )
    simulator.knob("POST", "clients", {"name": "vpn-slow", "network_name": "every"})
    return ServiceFactory(
        customer=customer,
        product=product,
        server=server_for(simulator),
        network="every",
        remote_name="vpn-slow",
        status=ServiceStatus.ACTIVE,
        activated_at=timezone.now(),
    )


def timed_page(client: Client, service: Service) -> tuple[str, float]:
    started = time.monotonic()
    response = client.get(f"/services/{service.pk}/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    return response.content.decode(), elapsed


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<(section|article)[^>]*id="{element_id}".*?</\1>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(0)


def most_at_once(calls: list[dict], latency: float) -> int:
    """The most calls the panel was busy with at one moment.

    The simulator logs a call when it answers (``at``), after sleeping ``latency``: each call was
    in progress for at least ``[at - latency, at]``.
    """
    edges = sorted(
        [(c["at"] - latency, 1) for c in calls] + [(c["at"], -1) for c in calls],
        key=lambda edge: (edge[0], edge[1]),  # an end before a start at the same instant
    )
    busy = most = 0
    for _, step in edges:
        busy += step
        most = max(most, busy)
    return most


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_slow_panel_is_asked_for_every_config_at_once(owner_client, service, simulator):
    latency = 0.6
    simulator.knob("POST", "faults", {"latency_ms": int(latency * 1000)})
    simulator.knob("POST", "calls/reset")

    html, elapsed = timed_page(owner_client, service)

    for protocol in ALL_PROTOCOLS:
        block = section(html, f"vpn-config-{protocol}")
        assert "vpn-error" not in block
    assert html.count('src="data:image/png;base64,') == 2  # WireGuard and AmneziaWG
    calls = simulator.knob("GET", "calls")
    first = [c for c in calls if c["path"].endswith(("/client/vpn-slow", "/network/every"))]
    configs = [c for c in calls if c not in first]
    assert (len(first), len(configs)) == (2, 6)
    assert most_at_once(first, latency) == 2
    assert most_at_once(configs, latency) == 6
    # One after another, 8 calls would take 4.8 s; two rounds take about 1.2 s.
    logged = ModuleLogEntry.objects.filter(service=service)
    assert elapsed < sum(entry.duration_ms for entry in logged) / 1000 / 2


def test_every_call_of_one_page_view_is_logged_with_the_service_and_one_correlation_id(
    owner_client, service, simulator
):
    simulator.knob("POST", "faults", {"latency_ms": 300})

    timed_page(owner_client, service)
    timed_page(owner_client, service)

    logged = ModuleLogEntry.objects.filter(service=service, action="client_area")
    assert logged.count() == 16
    views = {}
    for entry in logged:
        views.setdefault(entry.correlation_id, []).append(entry.path)
    assert len(views) == 2
    for paths in views.values():
        assert sorted(paths) == sorted(
            [
                "client/vpn-slow",
                "network/every",
                "client/vpn-slow/config/text",
                "client/vpn-slow/config/qr",
                "client/vpn-slow/amneziawg/config",
                "client/vpn-slow/amneziawg/qr",
                "client/vpn-slow/openvpn/profile",
                "client/vpn-slow/ikev2/profile",
            ]
        )


def test_configs_not_answered_within_the_budget_say_so_and_the_page_renders(
    owner_client, service, simulator, settings
):
    # Client and network answer at 1.0 s; the configs would at 2.0 s, past the budget.
    settings.CLIENT_AREA_PANEL_BUDGET_SECONDS = 1.5
    simulator.knob("POST", "faults", {"latency_ms": 1000})

    html, elapsed = timed_page(owner_client, service)

    assert elapsed < 1.5 + 0.45
    assert "<code>vpn-slow</code>" in section(html, "vpn-client")
    for protocol in ALL_PROTOCOLS:
        block = section(html, f"vpn-config-{protocol}")
        assert SLOW_MESSAGE in block
        assert "data:image/png" not in block
    assert 'id="one-time-link"' in html


def test_a_panel_slower_than_the_budget_leaves_the_page_fast_and_its_late_answers_unlogged(
    owner_client, service, simulator, settings, caplog
):
    caplog.set_level(logging.WARNING, logger="provisioning.panel_calls")
    settings.CLIENT_AREA_PANEL_BUDGET_SECONDS = 1.0
    simulator.knob("POST", "faults", {"latency_ms": 3000})

    html, elapsed = timed_page(owner_client, service)

    assert elapsed < 2.5  # one call alone takes 3 s
    assert SLOW_MESSAGE in section(html, "vpn-client")
    assert SLOW_MESSAGE in section(html, "vpn-configs")
    assert 'id="service-information"' in html
    # The two first calls answer after the page was rendered: a warning each, no module-log row.
    wait_until(lambda: sum(LATE in r.getMessage() for r in caplog.records) == 2)
    late = [r.getMessage() for r in caplog.records if LATE in r.getMessage()]
    assert all(f"service {service.pk}," in message for message in late)
    assert not ModuleLogEntry.objects.filter(service=service).exists()


def test_a_dead_panel_still_short_circuits_within_the_budget(owner_client, service, simulator):
    simulator.stop()

    html, elapsed = timed_page(owner_client, service)

    assert elapsed < 2
    assert UNREACHABLE_MESSAGE in section(html, "vpn-client")
    assert UNREACHABLE_MESSAGE in section(html, "vpn-configs")
    assert SLOW_MESSAGE not in html
