"""Live connection status against a real simulator: one ``client/online`` call per panel per poll
interval however many customers watch, only the service's own sessions, clear JSON errors.

Runs on the configured cache: Redis when REDIS_URL is set (as in CI), LocMem otherwise.
"""

import math
import random
import threading
import time
from datetime import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.utils import timezone

from provisioning.client_area import api
from provisioning.client_area.messages import RATE_LIMITED, read_failed
from provisioning.exceptions import NotOnPanel, PanelReadFailed, ReadFailure
from provisioning.live import (
    ConnectionStatus,
    cache_keys,
    panel_online_sessions,
    service_connection_status,
)
from provisioning.models import ModuleLogEntry, Service, ServiceStatus
from tests.factories import ServiceFactory
from vpnpanel import OnlineSession, Protocol

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

urlpatterns = [
    path("login/", lambda request: HttpResponse("login"), name="login"),
    path(
        "services/<int:pk>/connection-status",
        api.connection_status,
        name="service-connection-status",
    ),
]

POLL_SECONDS = 5
UNREACHABLE_LIVE = read_failed(PanelReadFailed(ReadFailure.UNREACHABLE), place="live")
ONLINE_PATH = "/api/v1/client/online"


@pytest.fixture(autouse=True)
def fast_polls(private_cache, settings):
    settings.CLIENT_AREA_POLL_SECONDS = POLL_SECONDS


@pytest.fixture
def service_on(customer):
    """A provisioned service whose client exists on the simulator's panel."""
    counter = iter(range(1, 1000))

    def make(simulator, server, product, *, owner=None, status=ServiceStatus.ACTIVE) -> Service:
        name = f"vpn-live-{server.pk}-{next(counter)}"
        simulator.knob("POST", "clients", {"name": name, "network_name": "office"})
        return ServiceFactory(
            customer=owner or customer,
            product=product,
            server=server,
            network="office",
            remote_name=name,
            status=status,
            activated_at=timezone.now(),
        )

    return make


def force_session(simulator, service: Service, *, online: bool, protocol: str = "wireguard"):
    simulator.knob(
        "POST", f"clients/{service.remote_name}/session", {"online": online, "protocol": protocol}
    )


def online_calls(simulator) -> int:
    return sum(
        1
        for c in simulator.knob("GET", "calls")
        if c["method"] == "GET" and c["path"] == ONLINE_PATH
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status_url(service: Service) -> str:
    return f"/services/{service.pk}/connection-status"


# Coalescing -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_fifty_viewers_polling_for_fifteen_seconds_cost_at_most_four_panel_calls(
    simulator, server_for, product_for, service_on
):
    # given one service online on a panel, and 50 viewers polling far faster than the interval
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True)
    assert service.server == server  # loaded here: the viewers' threads read no service rows
    simulator.knob("POST", "calls/reset")
    duration, viewers = 15.0, 50
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(viewers)

    def viewer() -> None:
        try:
            start.wait()
            stop = time.monotonic() + duration
            while time.monotonic() < stop:
                results.append(service_connection_status(service).online)
                time.sleep(random.uniform(0.5, 1.0))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=viewer) for _ in range(viewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert not errors
    calls = online_calls(simulator)
    print(f"{len(results)} status reads by {viewers} viewers over {duration}s: {calls} panel calls")
    assert len(results) >= viewers * duration  # each viewer polled ~20 times
    assert all(results)
    assert 1 <= calls <= math.ceil(duration / POLL_SECONDS) + 1
    # successful polls are module-logged once per MODULE_LOG_POLL_OK_MINUTES (10) per panel
    assert ModuleLogEntry.objects.filter(action="online", server=server).count() == 1


def test_viewers_of_different_services_on_one_panel_share_the_calls_through_the_endpoint(
    simulator, server_for, product_for, service_on, customer_factory
):
    # given ten customers, each watching their own service on the same panel over HTTP
    server = server_for(simulator)
    product = product_for((server, "office"))
    owners = [customer_factory() for _ in range(10)]
    services = [service_on(simulator, server, product, owner=owner) for owner in owners]
    for service in services:
        force_session(simulator, service, online=True)
    clients = [logged_in(owner.user) for owner in owners]
    simulator.knob("POST", "calls/reset")
    duration = 6.0
    answers: list[tuple[int, int, dict]] = []
    errors: list[BaseException] = []

    def viewer(client: Client, service: Service) -> None:
        try:
            stop = time.monotonic() + duration
            while time.monotonic() < stop:
                response = client.get(status_url(service))
                answers.append((service.pk, response.status_code, response.json()))
                time.sleep(random.uniform(0.3, 0.6))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [
        threading.Thread(target=viewer, args=pair) for pair in zip(clients, services, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert not errors
    assert {status for _, status, _ in answers} == {200}
    names = {s.pk: s.remote_name for s in services}
    ips = {c["name"]: c["ipv4"] for c in simulator.knob("GET", "state")["clients"]}
    for pk, _, body in answers:
        assert body["online"] is True
        assert [s["ip"] for s in body["sessions"]] == [ips[names[pk]]]
    calls = online_calls(simulator)
    print(f"{len(answers)} HTTP polls by 10 viewers over {duration}s: {calls} panel calls")
    assert len(answers) >= 10 * duration
    assert 1 <= calls <= math.ceil(duration / POLL_SECONDS) + 1


def test_a_dead_lock_holder_delays_viewers_only_until_its_lock_expires(
    simulator, server_for, product_for, service_on
):
    # given a fetcher that took the lock and died without storing an answer
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True)
    assert service.server == server
    lock_key = cache_keys(server).lock
    assert cache.add(lock_key, "dead-holder", timeout=1)
    simulator.knob("POST", "calls/reset")
    outcomes: list[tuple[float, bool]] = []
    started = time.monotonic()

    def viewer() -> None:
        try:
            online = service_connection_status(service).online
            outcomes.append((time.monotonic() - started, online))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then everyone got the data soon after the lock expired, and the panel was asked once
    assert len(outcomes) == 8
    assert all(online for _, online in outcomes)
    assert all(0.8 <= elapsed < 4 for elapsed, _ in outcomes), outcomes
    assert online_calls(simulator) == 1
    assert cache.get(lock_key) is None  # released by the caller that fetched


# A slow panel: the last answer at once ---------------------------------------------------------


def hang_panel(simulator, seconds: float) -> None:
    simulator.knob("POST", "faults", {"timeout_rate": 1, "hang_seconds": seconds})


def start_holder(service: Service) -> tuple[threading.Thread, list]:
    """A viewer whose poll takes the lock and asks the panel; returns once it holds the lock."""
    outcome: list = []

    def ask() -> None:
        try:
            outcome.append(service_connection_status(service))
        except PanelReadFailed as exc:
            outcome.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=ask)
    holder.start()
    deadline = time.monotonic() + 5
    while cache.get(cache_keys(service.server).lock) is None:
        assert time.monotonic() < deadline, "the holder never took the lock"
        time.sleep(0.01)
    return holder, outcome


def timed(call) -> tuple[float, object]:
    started = time.monotonic()
    try:
        result = call()
    except PanelReadFailed as exc:
        result = exc
    return time.monotonic() - started, result


def test_while_the_holder_waits_on_a_hung_panel_a_viewer_gets_the_last_answer_at_once(
    simulator, server_for, product_for, service_on
):
    # given an answer from the last interval, expired now, and a panel that hangs for 3 s
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True)
    previous = service_connection_status(service)
    cache.delete(cache_keys(server).answer)
    hang_panel(simulator, 3)
    holder, held = start_holder(service)

    # when a second viewer polls while the holder is still waiting on the panel
    elapsed, status = timed(lambda: service_connection_status(service))

    # then it gets the last answer at once, marked with the time it was really checked
    assert elapsed < 0.5, elapsed
    assert holder.is_alive()
    assert isinstance(status, ConnectionStatus)
    assert status.online is True
    assert status.checked_at == previous.checked_at
    holder.join(timeout=15)
    [fresh] = held
    assert isinstance(fresh, ConnectionStatus)
    assert fresh.checked_at > previous.checked_at
    assert online_calls(simulator) == 2


def test_a_viewer_with_no_answer_at_all_waits_for_the_holders(
    simulator, server_for, product_for, service_on
):
    # given a panel never asked before, hanging for 2 s, and a viewer asking it
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True)
    hang_panel(simulator, 2)
    holder, held = start_holder(service)

    # when a second viewer polls meanwhile
    elapsed, status = timed(lambda: service_connection_status(service))

    # then it waited for the holder's answer instead of asking the panel itself
    holder.join(timeout=15)
    [fresh] = held
    assert 1.0 <= elapsed < 5, elapsed
    assert isinstance(status, ConnectionStatus)
    assert status.checked_at == fresh.checked_at
    assert online_calls(simulator) == 1


def test_a_fresh_failure_beats_an_older_good_answer(simulator, server_for, product_for, service_on):
    # given a good answer, then a failed call in the next interval
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True)
    assert service_connection_status(service).online is True
    keys = cache_keys(server)
    cache.delete(keys.answer)
    simulator.knob("POST", "faults", {"error_rate": 1})
    with pytest.raises(PanelReadFailed) as failed:
        service_connection_status(service)
    assert failed.value.failure == ReadFailure.PANEL_ERROR

    # when the next interval's holder waits on a hung panel and another viewer polls
    cache.delete(keys.answer)
    simulator.knob("POST", "faults", {"error_rate": 0})
    hang_panel(simulator, 3)
    holder, held = start_holder(service)
    elapsed, status = timed(lambda: service_connection_status(service))

    # then the viewer is told at once that the panel cannot be reached, not the old "Online"
    assert elapsed < 0.5, elapsed
    assert holder.is_alive()
    assert isinstance(status, PanelReadFailed)
    assert status.failure == ReadFailure.PANEL_ERROR
    holder.join(timeout=15)
    assert isinstance(held[0], ConnectionStatus)  # the hung panel did answer in the end
    assert online_calls(simulator) == 3


# What a service sees ------------------------------------------------------------------------------


def test_a_forced_session_shows_online_with_its_fields(
    simulator, server_for, product_for, service_on, customer
):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True, protocol="openvpn")

    response = logged_in(customer.user).get(status_url(service))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["online"] is True
    assert body["poll_seconds"] == POLL_SECONDS
    checked_at = datetime.fromisoformat(body["checked_at"])
    assert abs((timezone.now() - checked_at).total_seconds()) < 5
    [session] = body["sessions"]
    panel_session = next(
        s for s in panel_online_sessions(server) if s.client_name == service.remote_name
    )
    assert session == {
        "protocol": "openvpn",
        "network": "office",
        "ip": panel_session.ip,
        "endpoint": panel_session.endpoint,
        "latest_handshake": panel_session.latest_handshake.isoformat(),
        "handshake_ago_seconds": session["handshake_ago_seconds"],
        "rx_bytes": panel_session.transfer_rx,
        "tx_bytes": panel_session.transfer_tx,
    }
    assert session["ip"].startswith("10.0.6.")
    assert 0 <= session["handshake_ago_seconds"] < 130


def test_panel_sessions_come_back_typed_from_the_cache(
    simulator, server_for, product_for, service_on
):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=True)

    first = panel_online_sessions(server)
    cached = panel_online_sessions(server)

    assert first == cached
    mine = [s for s in cached if s.client_name == service.remote_name]
    assert len(mine) == 1
    assert isinstance(mine[0], OnlineSession)
    assert mine[0].protocol is Protocol.WIREGUARD
    assert mine[0].latest_handshake is not None
    assert mine[0].latest_handshake.tzinfo is not None
    assert online_calls(simulator) == 1


def test_a_service_without_a_session_is_offline(simulator, server_for, product_for, service_on):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    force_session(simulator, service, online=False)

    status = service_connection_status(service)

    assert status.online is False
    assert status.sessions == []


def test_another_clients_session_on_the_same_panel_does_not_leak(
    simulator, server_for, product_for, service_on, customer_factory
):
    server = server_for(simulator)
    product = product_for((server, "office"))
    mine = service_on(simulator, server, product)
    theirs = service_on(simulator, server, product, owner=customer_factory())
    force_session(simulator, mine, online=False)
    force_session(simulator, theirs, online=True, protocol="ikev2")

    assert service_connection_status(mine).online is False
    their_status = service_connection_status(theirs)
    assert [s["protocol"] for s in their_status.sessions] == ["ikev2"]


# Errors -----------------------------------------------------------------------------------------


def test_a_stopped_panel_answers_503_once_per_interval(
    simulator, server_for, product_for, service_on, customer
):
    # given a panel that is down
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    simulator.stop()
    client = logged_in(customer.user)

    # when a viewer polls repeatedly within one interval
    responses = [client.get(status_url(service)) for _ in range(5)]

    # then every answer is the clear message, and the panel was tried once
    for response in responses:
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"error": UNREACHABLE_LIVE}
    assert UNREACHABLE_LIVE.startswith("The VPN server could not be reached just now.")
    attempts = ModuleLogEntry.objects.filter(action="online", server=server)
    assert attempts.count() == 1
    assert attempts.get().outcome == "error"
    with pytest.raises(PanelReadFailed) as raised:
        service_connection_status(service)
    assert raised.value.failure == ReadFailure.UNREACHABLE


def test_a_service_not_provisioned_answers_409(server_for, simulator, product_for, customer):
    server = server_for(simulator)
    service = ServiceFactory(
        customer=customer, product=product_for((server, "office")), status=ServiceStatus.PENDING
    )

    response = logged_in(customer.user).get(status_url(service))

    assert response.status_code == 409
    assert response.json() == {"error": "This service is not set up yet."}
    assert online_calls(simulator) == 0


@pytest.mark.parametrize(
    "status", [ServiceStatus.TERMINATED, ServiceStatus.FAILED, ServiceStatus.PROVISIONING]
)
def test_a_service_without_a_live_client_is_not_provisioned(
    simulator, server_for, product_for, service_on, status
):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")), status=status)

    with pytest.raises(NotOnPanel):
        service_connection_status(service)


def test_another_customers_service_answers_404(
    simulator, server_for, product_for, service_on, customer_factory
):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    stranger = customer_factory()

    response = logged_in(stranger.user).get(status_url(service))

    assert response.status_code == 404
    assert response.json() == {"error": "No such service."}
    assert online_calls(simulator) == 0


def test_anonymous_is_sent_to_log_in(simulator, server_for, product_for, service_on):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))

    response = Client().get(status_url(service))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_only_get_is_allowed(simulator, server_for, product_for, service_on, customer):
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))

    response = logged_in(customer.user).post(status_url(service))

    assert response.status_code == 405


def test_polling_faster_than_the_limit_answers_429_with_retry_after(
    simulator, server_for, product_for, service_on, customer, monkeypatch
):
    # given a window that cannot roll over during the test
    monkeypatch.setattr(api, "STATUS_RATE_WINDOW", 3600)
    server = server_for(simulator)
    service = service_on(simulator, server, product_for((server, "office")))
    client = logged_in(customer.user)

    statuses = [client.get(status_url(service)).status_code for _ in range(api.STATUS_RATE_LIMIT)]
    limited = client.get(status_url(service))

    assert statuses == [200] * api.STATUS_RATE_LIMIT
    assert limited.status_code == 429
    assert limited.json() == {"error": RATE_LIMITED}
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert online_calls(simulator) == 1
