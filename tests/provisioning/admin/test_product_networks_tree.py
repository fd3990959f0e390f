"""The product page's VPN-networks tree against live simulators, one of them down."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.models import Product
from tests.provisioning.admin.html_forms import form_data

pytestmark = pytest.mark.django_db


def change_url(product: Product) -> str:
    return reverse("admin:provisioning_product_change", args=[product.pk])


def pairs(product: Product) -> list[tuple[int, str]]:
    product.refresh_from_db()
    return [(t.server_id, t.network) for t in product.typed_settings.deploy_targets]


@pytest.fixture
def two_panels(simulator_factory, server_for):
    first_sim, second_sim = simulator_factory(), simulator_factory()
    first = server_for(first_sim, name="panel-fra")
    second = server_for(second_sim, name="panel-ams")
    return (first_sim, first), (second_sim, second)


def test_down_server_shows_its_error_and_keeps_its_ticks_in_order_on_save(
    admin_client, two_panels, product_for
):
    (_, fra), (ams_sim, ams) = two_panels
    product = product_for((ams, "lab"), (fra, "office"), (ams, "office"), download_mbps=50)
    ams_sim.stop()

    response = admin_client.get(change_url(product))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="vpn-tree-server unreachable"' in html
    assert f"Panel panel-ams ({ams_sim.url}) could not be reached for GET network" in html
    assert "slots 0 / 50" in html  # the reachable panel, beside its networks
    assert "10.0.6.0/24" in html
    assert "10.0.7.0/29" in html
    assert "vpn-networks-banner" not in html  # one panel of two is still up

    data = form_data(html, "product_form")
    response = admin_client.post(change_url(product), data)

    assert response.status_code == 302, response.content.decode()
    assert pairs(product) == [(ams.pk, "lab"), (fra.pk, "office"), (ams.pk, "office")]
    assert product.typed_settings.download_mbps == 50


def test_whole_group_down_shows_the_red_banner_and_saving_keeps_every_tick(
    admin_client, two_panels, product_for
):
    (fra_sim, fra), (ams_sim, ams) = two_panels
    product = product_for((fra, "office"), (ams, "lab"))
    fra_sim.stop()
    ams_sim.stop()

    html = admin_client.get(change_url(product)).content.decode()

    assert "vpn-networks-banner" in html
    response = admin_client.post(change_url(product), form_data(html, "product_form"))
    assert response.status_code == 302
    assert pairs(product) == [(fra.pk, "office"), (ams.pk, "lab")]


def test_ticked_pairs_follow_the_posted_order_and_new_ticks_go_last(
    admin_client, two_panels, product_for
):
    (_, fra), (_, ams) = two_panels
    product = product_for((fra, "office"), (ams, "lab"))
    data = form_data(admin_client.get(change_url(product)).content.decode(), "product_form")

    data["deploy_targets"] = [f"{fra.pk}:office", f"{ams.pk}:lab", f"{fra.pk}:lab"]
    data["deploy_order"] = f"{ams.pk}:lab,{fra.pk}:office"
    response = admin_client.post(change_url(product), data)

    assert response.status_code == 302
    assert pairs(product) == [(ams.pk, "lab"), (fra.pk, "office"), (fra.pk, "lab")]


def test_unticking_a_pair_removes_it(admin_client, two_panels, product_for):
    (_, fra), (_, ams) = two_panels
    product = product_for((fra, "office"), (ams, "lab"))
    data = form_data(admin_client.get(change_url(product)).content.decode(), "product_form")

    data["deploy_targets"] = [f"{ams.pk}:lab"]
    admin_client.post(change_url(product), data)

    assert pairs(product) == [(ams.pk, "lab")]


def test_a_new_tick_on_a_server_outside_the_group_is_refused(
    admin_client, two_panels, product_for, offline_server, server_group
):
    (_, fra), _ = two_panels
    product = product_for((fra, "office"))
    offline_server.group = None
    offline_server.save()
    data = form_data(admin_client.get(change_url(product)).content.decode(), "product_form")

    data["deploy_targets"] = [f"{fra.pk}:office", f"{offline_server.pk}:office"]
    response = admin_client.post(change_url(product), data)

    assert response.status_code == 200
    assert "is not an enabled server of the product" in response.content.decode()
    assert pairs(product) == [(fra.pk, "office")]


def test_panel_strings_in_the_tree_are_escaped(admin_client, simulator, server_for, product_for):
    server = server_for(simulator)
    simulator.knob(
        "POST",
        "networks",
        {
            "name": "evil",
            "subnet": "10.9.0.0/28",
            "wireguard": True,
            "amneziawg": False,
            "openvpn": False,
            "ikev2": False,
            "description": "<script>alert(1)</script>",
            "bandwidth_download": 0,
            "bandwidth_upload": 0,
        },
    )
    product = product_for((server, "office"))

    html = admin_client.get(change_url(product)).content.decode()

    assert "10.9.0.0/28" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_tree_reads_are_in_the_module_log_without_the_token(
    admin_client, simulator, server_for, product_for
):
    from provisioning.models import ModuleLogEntry

    server = server_for(simulator)
    product = product_for((server, "office"))

    html = admin_client.get(change_url(product)).content.decode()

    calls = set(ModuleLogEntry.objects.filter(server=server).values_list("method", "path"))
    assert calls == {("GET", "network"), ("GET", "system/status")}
    assert simulator.token not in html
