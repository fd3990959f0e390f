"""The provider's branding, set in the admin, shows on every customer page."""

import pytest
from django.core.exceptions import ValidationError

from portal.core.models import Branding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def test_pages_use_the_shop_name_links_and_colour(client):
    branding = Branding.current()
    branding.shop_name = "Acme <VPN>"
    branding.support_email = "help@acme.example"
    branding.terms_url = "https://acme.example/terms"
    branding.primary_colour = "#aa3300"
    branding.save()

    page = client.get("/").content.decode()
    css = client.get("/branding.css")

    assert "Acme &lt;VPN&gt;" in page
    assert "mailto:help@acme.example" in page
    assert 'href="https://acme.example/terms"' in page
    assert 'href="/branding.css"' in page
    assert css["Content-Type"].startswith("text/css")
    assert "--primary: #aa3300;" in css.content.decode()


def test_a_colour_that_is_not_rrggbb_is_refused():
    branding = Branding.current()
    branding.primary_colour = "red; } body { display:none"

    with pytest.raises(ValidationError):
        branding.full_clean()


def test_the_admin_list_opens_the_one_row(admin_client):
    response = admin_client.get("/admin/core/branding/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/core/branding/1/change/"
    assert admin_client.get(response["Location"]).status_code == 200
