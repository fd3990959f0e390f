"""The product settings panel: typed fields instead of raw JSON, the name-rule preview and the
write-only licence key."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.models import Product
from tests.factories import ProductFactory
from tests.provisioning.admin.html_forms import form_data

pytestmark = pytest.mark.django_db

ADD_URL = "admin:provisioning_product_add"


def change_url(product: Product) -> str:
    return reverse("admin:provisioning_product_change", args=[product.pk])


def valid_add_data(server_group, **overrides) -> dict:
    return {
        "name": "VPN 100",
        "group": server_group.pk,
        "download_mbps": "100",
        "upload_mbps": "20",
        "client_name_rule": "vpn-{client_id}-{service_id}-{random_letter_4}",
        "instruction_url": "https://example.com/manual",
        "license_key": "",
        "placement": "least_full",
        "metric_download": "on",
        "deploy_order": "",
        **overrides,
    }


def test_add_page_shows_the_server_side_sample_of_the_default_name_rule(admin_client):
    html = admin_client.get(reverse(ADD_URL)).content.decode()

    assert "data-preview-output>vpn-1042-7311-" in html
    assert "portal/name_rule_preview.js" in html
    assert "Save the product with its server group" in html


def test_settings_are_written_as_typed_json(admin_client, server_group):
    response = admin_client.post(reverse(ADD_URL), valid_add_data(server_group))

    assert response.status_code == 302, response.content.decode()
    product = Product.objects.get(name="VPN 100")
    assert product.settings == {
        "download_mbps": 100,
        "upload_mbps": 20,
        "client_name_rule": "vpn-{client_id}-{service_id}-{random_letter_4}",
        "instruction_url": "https://example.com/manual",
        "deploy_targets": [],
        "placement": "least_full",
        "metric_download": True,
        "metric_upload": False,
    }


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("vpn-{client}-x", "Unknown macro in the name rule."),
        ("vpn {client_id}", "Outside macros, use only letters, digits"),
        ("vpn-{random_digit_40}", "Random macros take 1 to 32 characters."),
    ],
)
def test_an_invalid_name_rule_shows_the_error_on_its_field(
    admin_client, server_group, rule, message
):
    response = admin_client.post(
        reverse(ADD_URL), valid_add_data(server_group, client_name_rule=rule)
    )

    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index("form-row errors field-client_name_rule") :]
    assert message in row[: row.index("</div>") + 400]
    assert "This rule is not valid." in html  # the preview says so too
    assert not Product.objects.exists()


def test_bandwidth_out_of_range_shows_on_the_bandwidth_field(admin_client, server_group):
    response = admin_client.post(
        reverse(ADD_URL), valid_add_data(server_group, download_mbps="10001")
    )

    html = response.content.decode()
    assert "form-row errors field-download_mbps" in html
    assert not Product.objects.exists()


def test_an_invalid_instruction_link_shows_on_its_field(admin_client, server_group):
    response = admin_client.post(
        reverse(ADD_URL), valid_add_data(server_group, instruction_url="javascript:alert(1)")
    )

    assert "form-row errors field-instruction_url" in response.content.decode()


def test_licence_key_is_write_only_blank_keeps_it_and_clear_removes_it(admin_client):
    product = ProductFactory(name="Licensed", license_key="LIC-secret-key-42")

    html = admin_client.get(change_url(product)).content.decode()
    assert "LIC-secret-key-42" not in html
    assert "A key is stored" in html

    data = form_data(html, "product_form")
    assert admin_client.post(change_url(product), data).status_code == 302
    product.refresh_from_db()
    assert product.license_key == "LIC-secret-key-42"

    data["clear_license_key"] = "on"
    assert admin_client.post(change_url(product), data).status_code == 302
    product.refresh_from_db()
    assert product.license_key == ""


def test_changelist_summarises_settings_without_showing_json(admin_client):
    ProductFactory(name="Capped", settings={"download_mbps": 100, "upload_mbps": 0})

    html = admin_client.get(reverse("admin:provisioning_product_changelist")).content.decode()

    assert "↓ 100 / ↑ ∞" in html
