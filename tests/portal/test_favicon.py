"""Browsers ask every site for /favicon.ico (the admin's pages name no icon): it must not 404."""

from django.contrib.staticfiles import finders


def test_favicon_ico_leads_to_the_portals_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/portal/favicon.svg"
    assert finders.find("portal/favicon.svg") is not None


def test_pages_name_the_icon(client, admin_client, db):
    for page in (client.get("/accounts/login/"), admin_client.get("/admin/")):
        assert 'rel="icon" href="/static/portal/favicon.svg"' in page.content.decode()
