"""The public catalogue: plans under their products' names, prices per cycle, what they give,
and sold out when the panels have no room (asked through provisioning's placement)."""

import pytest
from django.core.cache import cache

from portal.store.availability import CACHE_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def test_the_home_page_lists_the_plans_on_sale_with_their_lowest_price(client, shop_plan):
    page = client.get("/").content.decode()

    assert "VPN 100" in page
    assert "9.99 EUR monthly" in page
    assert "/plans/vpn-100/" in page
    assert "Sold out" not in page


def test_a_plan_page_shows_prices_setup_fee_bandwidth_and_protocols(client, shop_plan):
    page = client.get("/plans/vpn-100/").content.decode()

    assert "100 Mbit/s" in page
    assert "50 Mbit/s" in page
    assert (
        '<tr data-cycle="monthly"><td>Monthly</td><td>9.99 EUR</td><td>5.00 EUR</td></tr>' in page
    )
    assert '<tr data-cycle="annual"><td>Annually</td><td>99.00 EUR</td><td>Free</td></tr>' in page
    assert "None" not in page
    for protocol in ("WireGuard", "OpenVPN", "IKEv2"):  # the office network's
        assert protocol in page
    assert "AmneziaWG" not in page
    assert 'id="add-to-cart"' in page
    assert 'for=""' not in page
    assert 'role="group" aria-labelledby="id_cycle_label"' in page  # the cycles' radio group
    assert '<span id="id_cycle_label">Cycle</span>' in page
    assert '<label for="id_cycle_1"><input type="radio" name="cycle" value="annual"' in page


@pytest.mark.parametrize("exhaust", ["slots/exhaust", "networks/office/fill"])
def test_a_plan_without_room_on_its_panels_is_sold_out_and_cannot_be_added(
    client, shop_plan, simulator, exhaust
):
    simulator.knob("POST", exhaust)

    home = client.get("/").content.decode()
    response = client.post("/plans/vpn-100/", {"cycle": "monthly", "quantity": 1})

    assert 'data-role="sold-out"' in home
    assert response.status_code == 200
    assert "sold out" in response.content.decode()
    assert client.session.get("store:cart") is None


def test_availability_is_cached_briefly(client, shop_plan, simulator):
    client.get("/")
    simulator.knob("POST", "slots/exhaust")

    assert 'data-role="sold-out"' not in client.get("/").content.decode()  # cached
    cache.delete(f"{CACHE_PREFIX}:{shop_plan.product_id}")
    assert 'data-role="sold-out"' in client.get("/").content.decode()


def test_a_plan_off_sale_is_not_shown_nor_reachable(client, shop_plan):
    shop_plan.on_sale = False
    shop_plan.save()

    assert "VPN 100" not in client.get("/").content.decode()
    assert client.get("/plans/vpn-100/").status_code == 404


def test_visitors_get_a_sign_in_link_and_customers_a_link_to_their_services(
    client, customer, shop_plan
):
    anonymous = client.get("/").content.decode()
    client.force_login(customer.user)
    signed_in = client.get("/").content.decode()

    assert 'href="/accounts/login/"' in anonymous
    assert 'href="/services/"' not in anonymous
    assert 'href="/services/"' in signed_in
