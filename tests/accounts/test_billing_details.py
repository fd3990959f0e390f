"""The customer's billing details page: saved, VAT ids checked against the chosen country,
``tax_exempt`` out of the customer's reach, and the snapshot billing keeps on invoices."""

from __future__ import annotations

import pytest
from django.test import Client

from portal.accounts.models import Customer

pytestmark = pytest.mark.django_db

URL = "/account/billing/"
DETAILS = {
    "billing_name": "Alice Example",
    "company_name": "Example GmbH",
    "address_line1": "Hauptstraße 1",
    "address_line2": "",
    "postcode": "10115",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "de 136 695 976",
}


@pytest.fixture
def owner_client(owner: Customer) -> Client:
    client = Client()
    client.force_login(owner.user)
    return client


def test_billing_details_are_saved(owner_client, owner):
    response = owner_client.post(URL, DETAILS)

    assert response.status_code == 302
    assert response["Location"] == URL
    owner.refresh_from_db()
    assert owner.billing_name == "Alice Example"
    assert owner.city == "Berlin"
    assert owner.country == "DE"
    assert owner.vat_id == "DE136695976"
    page = owner_client.get(URL).content.decode()
    assert "Your billing details have been saved" in page
    assert 'value="DE136695976"' in page


@pytest.mark.parametrize(
    ("country", "vat_id", "message"),
    [
        ("DE", "DE136695977", "This is not a valid VAT id"),
        ("FR", "DE136695976", "This VAT id belongs to another country"),
        ("GR", "EL12345", "This is not a valid VAT id"),
    ],
)
def test_a_bad_vat_id_is_refused_with_a_clear_message(
    owner_client, owner, country, vat_id, message
):
    response = owner_client.post(URL, {**DETAILS, "country": country, "vat_id": vat_id})

    assert response.status_code == 200
    assert message in response.content.decode()
    owner.refresh_from_db()
    assert owner.vat_id == ""
    assert owner.city == ""


def test_an_eu_vat_id_gets_its_country_prefix(owner_client, owner):
    owner_client.post(URL, {**DETAILS, "country": "GR", "vat_id": "094259216"})

    owner.refresh_from_db()
    assert owner.vat_id == "EL094259216"


def test_a_tax_id_outside_the_eu_is_kept_as_given(owner_client, owner):
    owner_client.post(URL, {**DETAILS, "country": "US", "vat_id": " 12-3456789 "})

    owner.refresh_from_db()
    assert owner.vat_id == "12-3456789"


def test_a_tax_id_outside_the_eu_has_a_maximum_length(owner_client, owner):
    response = owner_client.post(URL, {**DETAILS, "country": "US", "vat_id": "9" * 33})

    assert "at most 32 characters" in response.content.decode()
    owner.refresh_from_db()
    assert owner.vat_id == ""


def test_the_country_is_required_and_must_be_a_country_code(owner_client, owner):
    for country in ("", "XX"):
        response = owner_client.post(URL, {**DETAILS, "country": country})
        assert response.status_code == 200
        assert 'class="form__error"' in response.content.decode()
    owner.refresh_from_db()
    assert owner.country == ""


def test_the_customer_cannot_make_themselves_tax_exempt(owner_client, owner):
    page = owner_client.get(URL).content.decode()
    assert "tax_exempt" not in page

    owner_client.post(URL, {**DETAILS, "tax_exempt": "on"})

    owner.refresh_from_db()
    assert owner.city == "Berlin"
    assert owner.tax_exempt is False


def test_each_customer_sees_and_changes_only_their_own_details(owner, other_customer):
    owner.billing_name, owner.city = "Alice Example", "Berlin"
    owner.save()
    other = Client()
    other.force_login(other_customer.user)

    page = other.get(URL).content.decode()
    other.post(URL, {**DETAILS, "billing_name": "Mallory", "city": "Paris", "vat_id": ""})

    assert "Alice Example" not in page
    assert "Berlin" not in page
    owner.refresh_from_db()
    other_customer.refresh_from_db()
    assert (owner.billing_name, owner.city) == ("Alice Example", "Berlin")
    assert (other_customer.billing_name, other_customer.city) == ("Mallory", "Paris")


def test_the_page_is_never_stored_and_is_linked_from_the_header(owner_client):
    response = owner_client.get(URL)

    assert "no-store" in response["Cache-Control"]
    assert f'href="{URL}"' in owner_client.get("/services/").content.decode()


def test_staff_without_a_customer_record_get_404(staff):
    client = Client()
    client.force_login(staff)

    assert client.get(URL).status_code == 404


def test_billing_address_is_a_snapshot_of_the_details(customer_factory):
    customer = customer_factory("dora", **{k: v for k, v in DETAILS.items() if k != "vat_id"})
    customer.vat_id, customer.tax_exempt = "DE136695976", True

    snapshot = customer.billing_address()

    assert snapshot == {
        "billing_name": "Alice Example",
        "company_name": "Example GmbH",
        "address_line1": "Hauptstraße 1",
        "address_line2": "",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "country_name": "Germany",
        "vat_id": "DE136695976",
        "email": "dora@example.com",
        "tax_exempt": True,
    }


def test_billing_address_names_the_customer_when_no_name_was_given(customer_factory):
    customer = customer_factory("erin", user__first_name="Erin", user__last_name="Example")

    assert customer.billing_address()["billing_name"] == "Erin Example"


def test_staff_editing_a_customer_in_the_admin_get_the_same_vat_check(admin_client, owner):
    response = admin_client.post(
        f"/admin/accounts/customer/{owner.pk}/change/",
        {"user": owner.user.pk, **DETAILS, "vat_id": "DE136695977", "tax_exempt": "on"},
    )

    assert response.status_code == 200
    assert "This is not a valid VAT id" in response.content.decode()
    owner.refresh_from_db()
    assert owner.tax_exempt is False
