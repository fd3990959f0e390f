"""The checkout's terms box links the shop's terms of service when Branding has their URL, and
names them without a link when not (as in the demo: ``seed_demo`` sets none, no page exists)."""

import pytest

from portal.core.models import Branding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

TERMS_URL = "https://shop.example/terms"


def checkout_page(client) -> str:
    client.post("/plans/vpn-100/", {"cycle": "monthly", "quantity": 1})
    return client.get("/checkout/").content.decode()


def test_without_a_terms_url_the_terms_are_named_without_a_link(signed_in, shop_plan):
    page = checkout_page(signed_in)

    assert '<label for="id_accept_terms">I accept the terms of service.</label>' in page
    assert 'href=""' not in page


def test_with_a_terms_url_the_terms_link_to_it(signed_in, shop_plan):
    Branding.objects.create(terms_url=TERMS_URL)

    page = checkout_page(signed_in)

    assert f'I accept the <a href="{TERMS_URL}">terms of service</a>.' in page
