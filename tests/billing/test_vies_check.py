"""The optional VIES check (BILLING_VIES_CHECK): off, the checksum alone grants reverse charge; on,
an id VIES does not know is taxed, and a VIES that cannot answer never blocks the sale."""

from decimal import Decimal

import pytest
import requests
import responses

from portal.accounts.models import BILLING_FIELDS
from portal.accounts.services import customer_billing_details_update
from portal.billing.models import TaxRate
from portal.billing.services import LineSpec, invoice_create
from portal.core.models import Branding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

VIES = "https://vies.example.test/check-vat-number"
FRENCH_VAT_ID = "FR40303265045"  # checksum-valid


@pytest.fixture
def french_business(customer):
    Branding.objects.update_or_create(pk=1, defaults={"country": "DE"})
    TaxRate.objects.create(country="FR", name="TVA", rate=Decimal("20"))
    customer.country = "FR"
    customer.vat_id = FRENCH_VAT_ID
    customer.save()
    return customer


@pytest.fixture
def vies_on(settings):
    settings.BILLING_VIES_CHECK = True
    settings.BILLING_VIES_URL = VIES


def invoice_for(customer):
    line = LineSpec(description="VPN", unit_price=Decimal("10.00"))
    return invoice_create(customer=customer, lines=[line], actor=None)


@responses.activate
def test_off_by_default_the_checksum_alone_grants_reverse_charge(french_business):
    invoice = invoice_for(french_business)

    assert (invoice.reverse_charge, invoice.total) == (True, Decimal("10.00"))
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.usefixtures("vies_on")
def test_an_id_vies_confirms_is_reverse_charged_and_asked_once_a_day(french_business):
    responses.post(VIES, json={"valid": True, "userError": "VALID"})

    first, second = invoice_for(french_business), invoice_for(french_business)

    assert [first.reverse_charge, second.reverse_charge] == [True, True]
    assert len(responses.calls) == 1
    assert responses.calls[0].request.body == b'{"countryCode": "FR", "vatNumber": "40303265045"}'


@responses.activate
@pytest.mark.usefixtures("vies_on")
def test_an_id_vies_does_not_know_pays_the_countrys_tax(french_business):
    responses.post(VIES, json={"valid": False, "userError": "INVALID"})

    invoice = invoice_for(french_business)

    assert (invoice.reverse_charge, invoice.tax_amount, invoice.total) == (
        False, Decimal("2.00"), Decimal("12.00")
    )  # fmt: skip


@responses.activate
@pytest.mark.usefixtures("vies_on")
@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"valid": False, "userError": "MS_UNAVAILABLE"}},
        {"status": 503, "body": "Service Unavailable"},
        {"body": requests.ConnectionError("refused")},
        {"body": "<html>not json</html>"},
    ],
)
def test_a_vies_that_cannot_answer_keeps_the_checksums_answer_and_asks_again_next_time(
    french_business, answer, caplog
):
    responses.post(VIES, **answer)

    invoice_for(french_business)
    invoice = invoice_for(french_business)

    assert invoice.reverse_charge
    assert len(responses.calls) == 2  # not cached
    assert "VIES could not" in caplog.text


@responses.activate
@pytest.mark.usefixtures("vies_on")
def test_a_new_address_leaves_the_proforma_as_vies_taxed_it(french_business, client):
    responses.post(VIES, json={"valid": False, "userError": "INVALID"})
    invoice = invoice_for(french_business)  # VIES asked: taxed
    client.force_login(french_business.user)
    form = {name: getattr(french_business, name) for name in BILLING_FIELDS}

    client.post("/account/billing/", {**form, "city": "Lyon"})

    invoice.refresh_from_db()
    french_business.refresh_from_db()
    assert french_business.city == "Lyon"
    assert (invoice.reverse_charge, invoice.total) == (False, Decimal("12.00"))
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.usefixtures("vies_on")
def test_a_vat_id_vies_confirms_later_re_taxes_the_proforma_asking_vies_once(french_business):
    responses.post(VIES, json={"valid": True, "userError": "VALID"})
    french_business.vat_id = ""
    french_business.save()
    invoice = invoice_for(french_business)

    customer_billing_details_update(customer=french_business, vat_id=FRENCH_VAT_ID)

    invoice.refresh_from_db()
    assert (invoice.reverse_charge, invoice.total) == (True, Decimal("10.00"))
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.usefixtures("vies_on")
def test_a_new_vat_id_vies_does_not_know_loses_the_reverse_charge(french_business):
    responses.post(VIES, json={"valid": True, "userError": "VALID"})
    invoice = invoice_for(french_business)  # reverse charged: VIES knows the first id
    responses.replace(responses.POST, VIES, json={"valid": False, "userError": "INVALID"})

    customer_billing_details_update(customer=french_business, vat_id="FR83404833048")

    invoice.refresh_from_db()
    assert (invoice.reverse_charge, invoice.total) == (False, Decimal("12.00"))
    assert len(responses.calls) == 2
