"""The client area's account menu leads to every account page, API tokens included (the REST
API was hard to find), and only for someone signed in."""

import re

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def menu_links(html: str) -> dict[str, str]:
    menu = re.search(r'<nav class="site-nav" aria-label="Account">(.*?)</nav>', html, re.S)
    return {label: href for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu[1])}


def test_the_account_menu_links_to_api_tokens(signed_in):
    links = menu_links(signed_in.get("/services/").content.decode())

    assert links["API tokens"] == "/account/api-tokens/"
    assert links["Billing details"] == "/account/billing/"
    assert signed_in.get(links["API tokens"]).status_code == 200


def test_a_visitor_gets_no_api_tokens_link(client):
    assert "API tokens" not in menu_links(client.get("/").content.decode())
