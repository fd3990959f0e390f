"""The VPN client card, configs, downloads and one-time links, against the live panel simulator."""

import re

import pytest
import requests
from django.test import Client
from django.utils import timezone

from provisioning.client_area import views
from provisioning.client_area.messages import read_failed
from provisioning.exceptions import PanelReadFailed, ReadFailure
from provisioning.models import ModuleLogEntry, Service, ServiceStatus
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

UNREACHABLE_ON_PAGE = read_failed(PanelReadFailed(ReadFailure.UNREACHABLE), place="page")
PANEL_ERROR_ON_PAGE = read_failed(PanelReadFailed(ReadFailure.PANEL_ERROR), place="page")
UNREACHABLE_REQUEST = read_failed(PanelReadFailed(ReadFailure.UNREACHABLE), place="request")

CONFIG_URLS = {
    "wireguard": "/services/{pk}/config/wireguard.conf",
    "openvpn": "/services/{pk}/config/openvpn.ovpn",
    "ikev2": "/services/{pk}/config/ikev2.sswan",
    "amneziawg": "/services/{pk}/config/amneziawg.conf",
}


@pytest.fixture
def server(simulator, server_for):
    return server_for(simulator)


@pytest.fixture
def on_panel(simulator, server, product, customer):
    """A provisioned service whose client exists on the simulator, on ``network``."""
    counter = iter(range(1, 1000))

    def make(network="office", *, owner=None, status=ServiceStatus.ACTIVE, **client) -> Service:
        name = f"vpn-card-{next(counter)}"
        simulator.knob("POST", "clients", {"name": name, "network_name": network, **client})
        return ServiceFactory(
            customer=owner or customer,
            product=product,
            server=server,
            network=network,
            remote_name=name,
            status=status,
            activated_at=timezone.now(),
        )

    return make


def page(client: Client, service: Service) -> str:
    response = client.get(f"/services/{service.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<(section|article)[^>]*id="{element_id}".*?</\1>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(0)


# The card --------------------------------------------------------------------------------------


def test_card_shows_the_panels_client_record(owner_client, on_panel, panel):
    service = on_panel("office")
    record = panel.update_client(service.remote_name, b_download=50, b_upload=0)

    card = section(page(owner_client, service), "vpn-client")

    assert f"<code>{record.name}</code>" in card
    assert f"<code>{record.ipv4}</code>" in card
    assert f"<code>{record.username}</code>" in card
    assert f"<code>{record.password}</code>" in card
    assert re.search(r'data-field="download">\s*50 Mbit/s', card)
    assert re.search(r'data-field="upload">\s*Unlimited', card)
    assert 'vpn-pill--enabled" data-role="client-status">Enabled<' in card


def test_disabled_client_has_a_red_pill(owner_client, on_panel, panel):
    service = on_panel("office")
    panel.update_client(service.remote_name, status="disable")

    card = section(page(owner_client, service), "vpn-client")

    assert 'vpn-pill--disabled" data-role="client-status">Disabled<' in card
    assert "vpn-pill--enabled" not in card


@pytest.mark.parametrize(
    ("network", "shown", "hidden"),
    [
        ("office", {"wireguard", "openvpn", "ikev2"}, {"amneziawg"}),
        ("lab", {"wireguard", "amneziawg"}, {"openvpn", "ikev2"}),
    ],
)
def test_badges_and_configs_only_for_enabled_protocols(
    owner_client, on_panel, network, shown, hidden
):
    service = on_panel(network)

    html = page(owner_client, service)
    card = section(html, "vpn-client")

    assert set(re.findall(r'data-protocol="(\w+)"', card)) == shown
    assert set(re.findall(r'id="vpn-config-(\w+)"', html)) == shown
    for protocol in hidden:
        assert CONFIG_URLS[protocol].format(pk=service.pk) not in html


def test_configs_show_text_qr_and_download_links(owner_client, on_panel, panel):
    service = on_panel("office")
    name = service.remote_name

    html = page(owner_client, service)

    wireguard = section(html, "vpn-config-wireguard")
    assert "[Interface]" in wireguard
    assert 'src="data:image/png;base64,' in wireguard
    assert 'data-copy-target="vpn-config-text-wireguard"' in wireguard
    assert f'href="/services/{service.pk}/config/wireguard.conf" download="{name}.conf"' in (
        wireguard
    )
    openvpn = section(html, "vpn-config-openvpn")
    assert "data-copy-target" in openvpn
    assert f'download="{name}.ovpn"' in openvpn
    assert "<img" not in openvpn
    ikev2 = section(html, "vpn-config-ikev2")
    assert f'download="{name}.sswan"' in ikev2
    assert "data-copy-target" not in ikev2  # the profile is downloaded, not pasted


def test_amneziawg_config_and_qr_on_the_lab_network(owner_client, on_panel, panel):
    service = on_panel("lab")

    amnezia = section(page(owner_client, service), "vpn-config-amneziawg")

    assert 'src="data:image/png;base64,' in amnezia
    assert f'download="{service.remote_name}-amneziawg.conf"' in amnezia


def test_service_page_is_not_cached(owner_client, on_panel):
    response = owner_client.get(f"/services/{on_panel().pk}/")

    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("status", ["pending", "provisioning", "failed", "terminated"])
def test_no_panel_blocks_when_not_provisioned(owner_client, on_panel, simulator, status):
    service = on_panel(status=status)
    simulator.knob("POST", "calls/reset")

    html = page(owner_client, service)

    assert 'id="vpn-client"' not in html
    assert 'id="vpn-configs"' not in html
    assert 'id="one-time-link"' not in html
    assert simulator.knob("GET", "calls") == []


def test_active_service_without_a_client_name_shows_no_panel_blocks(
    owner_client, service_factory, server
):
    service = service_factory(status="active", server=server, remote_name="")

    assert 'id="vpn-client"' not in page(owner_client, service)


def test_panel_calls_are_single_attempts_and_module_logged(
    owner_client, on_panel, simulator, settings
):
    settings.MODULE_LOG_POLL_OK_MINUTES = 0  # every call, not a sample
    service = on_panel("office")
    simulator.knob("POST", "calls/reset")

    page(owner_client, service)

    paths = [c["path"] for c in simulator.knob("GET", "calls")]
    name = service.remote_name
    assert paths.count(f"/api/v1/client/{name}") == 1
    assert paths.count("/api/v1/network/office") == 1
    logged = ModuleLogEntry.objects.filter(service=service, action="client_area")
    assert logged.count() == len(paths)
    assert all(entry.attempt == 1 for entry in logged)


def test_page_views_write_a_sample_of_their_good_reads_and_every_failure(
    owner_client, on_panel, simulator
):
    service = on_panel("office")

    for _ in range(3):
        page(owner_client, service)
    good = ModuleLogEntry.objects.filter(action="client_area", outcome="ok").count()
    simulator.knob("POST", "faults", {"rules": [{"path": "config/text", "count": 1}]})
    page(owner_client, service)

    assert good == 1  # three views of six reads each: one row per panel per sampling period
    failed = ModuleLogEntry.objects.filter(action="client_area", outcome="error")
    assert list(failed.values_list("path", flat=True)) == [
        f"client/{service.remote_name}/config/text"
    ]


def test_service_page_query_count_does_not_depend_on_the_service(owner_client, on_panel, settings):
    settings.MODULE_LOG_POLL_OK_MINUTES = (
        0  # a row per call, so the count does not hang on a sample
    )
    first, second = on_panel("office"), on_panel("office")
    page(owner_client, first)  # warm the session

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        page(owner_client, first)
    with CaptureQueriesContext(connection) as two:
        page(owner_client, second)

    assert len(one.captured_queries) == len(two.captured_queries)
    # session, user, service + one module-log row per panel call (client, network, 3 configs, QR)
    # + billing's cancellation card and the store's plan card (the subscription, each)
    assert len(one.captured_queries) == 3 + 6 + 2


# Panel down / failing ---------------------------------------------------------------------------


def test_panel_down_renders_inline_errors_and_the_rest_of_the_page(
    owner_client, on_panel, simulator
):
    service = on_panel("office")
    simulator.stop()

    html = page(owner_client, service)

    assert UNREACHABLE_ON_PAGE in section(html, "vpn-client")
    assert UNREACHABLE_ON_PAGE in section(html, "vpn-configs")
    assert 'id="service-information"' in html
    assert 'id="one-time-link"' in html
    # One attempt at the first round (client and network, asked together); nothing after it.
    paths = ModuleLogEntry.objects.filter(service=service).values_list("path", flat=True)
    assert sorted(paths) == [f"client/{service.remote_name}", "network/office"]


def test_one_failing_config_does_not_take_the_others_down(owner_client, on_panel, simulator):
    service = on_panel("office")
    simulator.knob(
        "POST", "faults", {"rules": [{"path": "openvpn/profile", "status": 500, "count": 5}]}
    )

    html = page(owner_client, service)

    assert PANEL_ERROR_ON_PAGE in section(html, "vpn-config-openvpn")
    assert "could not be reached" not in section(html, "vpn-config-openvpn")
    assert "[Interface]" in section(html, "vpn-config-wireguard")
    assert "vpn-error" not in section(html, "vpn-client")


def test_panel_error_messages_are_never_rendered_raw(owner_client, on_panel, simulator):
    service = on_panel("office")
    evil = "<script>alert(1)</script>"
    simulator.knob(
        "POST",
        "faults",
        {"rules": [{"path": "config/text", "status": 500, "message": evil, "count": 5}]},
    )

    html = page(owner_client, service)

    assert "<script>alert(1)" not in html
    assert PANEL_ERROR_ON_PAGE in section(html, "vpn-config-wireguard")


def test_panel_strings_in_the_card_are_escaped(owner_client, on_panel, panel):
    service = on_panel("office")
    panel.update_client(service.remote_name, password="<script>alert(2)</script>")

    html = page(owner_client, service)

    assert "<script>alert(2)" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in section(html, "vpn-client")


# Downloads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "protocol", "suffix", "content_type", "getter"),
    [
        ("office", "wireguard", ".conf", "text/plain", "wireguard_config"),
        ("office", "openvpn", ".ovpn", "application/x-openvpn-profile", "openvpn_profile"),
        ("office", "ikev2", ".sswan", "application/vnd.strongswan.profile", "ikev2_profile"),
        ("lab", "amneziawg", "-amneziawg.conf", "text/plain", "amneziawg_config"),
    ],
)
def test_download_gives_the_panels_config_as_an_uncached_attachment(
    owner_client, on_panel, panel, network, protocol, suffix, content_type, getter
):
    service = on_panel(network)

    response = owner_client.get(CONFIG_URLS[protocol].format(pk=service.pk))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"] == (
        f'attachment; filename="{service.remote_name}{suffix}"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content.decode() == getattr(panel, getter)(service.remote_name)


@pytest.mark.parametrize(
    ("network", "protocol"), [("office", "amneziawg"), ("lab", "openvpn"), ("lab", "ikev2")]
)
def test_download_of_a_disabled_protocol_is_404(owner_client, on_panel, network, protocol):
    service = on_panel(network)

    assert owner_client.get(CONFIG_URLS[protocol].format(pk=service.pk)).status_code == 404


@pytest.mark.parametrize(
    "path", ["config/wireguard.ovpn", "config/openvpn.conf", "config/tor.conf", "config/x.sswan"]
)
def test_unknown_config_files_are_404(owner_client, on_panel, path):
    service = on_panel("office")

    assert owner_client.get(f"/services/{service.pk}/{path}").status_code == 404


def test_download_of_a_not_provisioned_service_is_409(owner_client, service_factory):
    service = service_factory(status="pending")

    response = owner_client.get(CONFIG_URLS["wireguard"].format(pk=service.pk))

    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "This service is not set up yet."


def test_download_with_the_panel_down_is_503_with_a_clean_message(
    owner_client, on_panel, simulator
):
    service = on_panel("office")
    simulator.stop()

    response = owner_client.get(CONFIG_URLS["wireguard"].format(pk=service.pk))

    assert response.status_code == 503
    assert response.content.decode() == UNREACHABLE_REQUEST
    assert "rest of this page" not in UNREACHABLE_REQUEST
    assert "no-store" in response["Cache-Control"]


def test_downloads_are_rate_limited_per_user(owner_client, on_panel, monkeypatch):
    monkeypatch.setattr(views, "CONFIG_RATE_LIMIT", 2)
    service = on_panel("office")
    url = CONFIG_URLS["wireguard"].format(pk=service.pk)

    assert [owner_client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    response = owner_client.get(CONFIG_URLS["openvpn"].format(pk=service.pk))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


# Ownership and login ----------------------------------------------------------------------------

NEW_GET_URLS = list(CONFIG_URLS.values())


@pytest.mark.parametrize("url", [*NEW_GET_URLS, "/services/{pk}/"])
def test_another_customers_service_is_404_for_every_new_url(other_client, on_panel, url):
    service = on_panel("office")

    assert other_client.get(url.format(pk=service.pk)).status_code == 404


def test_another_customer_cannot_mint_a_one_time_link(other_client, on_panel, simulator):
    service = on_panel("office")
    simulator.knob("POST", "calls/reset")

    assert other_client.post(f"/services/{service.pk}/otl/").status_code == 404
    assert simulator.knob("GET", "calls") == []


@pytest.mark.parametrize("url", NEW_GET_URLS)
def test_anonymous_downloads_go_to_login(client, on_panel, url):
    response = client.get(url.format(pk=on_panel("office").pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_otl_post_goes_to_login(client, on_panel):
    response = client.post(f"/services/{on_panel('office').pk}/otl/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# One-time link ----------------------------------------------------------------------------------


def test_otl_is_post_only(owner_client, on_panel):
    service = on_panel("office")

    assert owner_client.get(f"/services/{service.pk}/otl/").status_code == 405


def test_otl_needs_a_csrf_token(customer, on_panel, simulator):
    service = on_panel("office")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer.user)
    simulator.knob("POST", "calls/reset")

    assert strict.post(f"/services/{service.pk}/otl/").status_code == 403
    assert simulator.knob("GET", "calls") == []


def test_otl_with_a_csrf_token_from_the_page_works(customer, on_panel):
    service = on_panel("office")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer.user)
    html = strict.get(f"/services/{service.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', section(html, "one-time-link"))

    response = strict.post(f"/services/{service.pk}/otl/", {"csrfmiddlewaretoken": token[1]})

    assert response.status_code == 302


def test_otl_is_shown_once_and_opens_once(owner_client, on_panel):
    service = on_panel("office")

    response = owner_client.post(f"/services/{service.pk}/otl/")

    assert response.status_code == 302
    assert response["Location"] == f"/services/{service.pk}/#one-time-link"
    assert "otl" not in response["Location"].split("#")[0].removeprefix(f"/services/{service.pk}")
    shown = section(page(owner_client, service), "one-time-link")
    link = re.search(r'<code id="vpn-otl-url">([^<]+)</code>', shown)[1]
    assert link.startswith("http")
    # Flashed once: a reload does not show it again.
    assert 'id="vpn-otl-url"' not in page(owner_client, service)
    # The link works once.
    assert requests.get(link, timeout=5).status_code == 200
    assert requests.get(link, timeout=5).status_code == 410


def test_otl_is_rate_limited_per_service(owner_client, on_panel, monkeypatch):
    monkeypatch.setattr(views, "OTL_RATE_LIMIT", 2)
    service = on_panel("office")
    url = f"/services/{service.pk}/otl/"

    assert [owner_client.post(url).status_code for _ in range(2)] == [302, 302]
    response = owner_client.post(url)
    assert response.status_code == 429
    assert "Too many one-time links" in response.content.decode()
    assert int(response["Retry-After"]) >= 1


def test_otl_for_a_not_provisioned_service_is_a_clean_409(owner_client, service_factory):
    service = service_factory(status="pending")

    response = owner_client.post(f"/services/{service.pk}/otl/")

    assert response.status_code == 409
    assert "This service is not set up yet." in response.content.decode()


def test_otl_with_the_panel_down_is_a_clean_503(owner_client, on_panel, simulator):
    service = on_panel("office")
    simulator.stop()

    response = owner_client.post(f"/services/{service.pk}/otl/")

    assert response.status_code == 503
    assert UNREACHABLE_REQUEST in response.content.decode()


# A suspended service ---------------------------------------------------------------------------


def test_a_suspended_service_page_hides_credentials_and_asks_no_panel(
    owner_client, on_panel, simulator, panel
):
    service = on_panel("office", status=ServiceStatus.SUSPENDED)
    password = panel.get_client(service.remote_name).password

    html = page(owner_client, service)

    assert "Service suspended" in section(html, "service-suspended")
    assert password not in html
    for element_id in ("vpn-client", "vpn-configs", "one-time-link"):
        assert f'id="{element_id}"' not in html
    assert not ModuleLogEntry.objects.filter(service=service).exists()


@pytest.mark.parametrize("protocol", ["wireguard", "openvpn"])
def test_a_suspended_service_gives_no_config_download(owner_client, on_panel, protocol):
    service = on_panel("office", status=ServiceStatus.SUSPENDED)

    response = owner_client.get(CONFIG_URLS[protocol].format(pk=service.pk))

    assert response.status_code == 409
    assert "This service is suspended." in response.content.decode()
    assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))


def test_a_suspended_service_mints_no_one_time_link(owner_client, on_panel, simulator):
    service = on_panel("office", status=ServiceStatus.SUSPENDED)

    response = owner_client.post(f"/services/{service.pk}/otl/")

    assert response.status_code == 409
    assert "This service is suspended." in response.content.decode()
    assert not ModuleLogEntry.objects.filter(service=service, action="client_otl").exists()
