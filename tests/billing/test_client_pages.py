"""The customer's billing pages: invoices (view, pay, PDF), bank transfer, credit; the demo
gateway only in DEBUG."""

import sys
from decimal import Decimal

import pytest
from django.test import override_settings

from portal.billing.gateways import gateways
from portal.billing.models import CreditEntry, Gateway, InvoiceStatus
from portal.billing.services import credit_balance, payment_record
from tests.portal.test_settings import PRODUCTION_ENV, _run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


def test_my_invoices_is_in_the_header_of_the_customers_pages(signed_in, invoice):
    for url in ("/", "/services/", f"/billing/invoices/{invoice.pk}/"):
        page = signed_in.get(url).content.decode()
        assert '<a href="/billing/invoices/">My invoices</a>' in page, url


def test_the_invoice_page_shows_the_proforma_and_how_to_pay(signed_in, invoice):
    page = signed_in.get(f"/billing/invoices/{invoice.pk}/").content.decode()

    assert "Proforma invoice" in page
    assert "the invoice number is given when it is paid" in page
    assert "9.99 EUR" in page
    assert 'data-gateway="demo"' in page
    assert "no-store" in signed_in.get(f"/billing/invoices/{invoice.pk}/")["Cache-Control"]


def test_paying_with_the_demo_gateway_pays_and_orders_the_service(signed_in, invoice, customer):
    response = signed_in.post(f"/billing/invoices/{invoice.pk}/pay/demo/")

    invoice.refresh_from_db()
    assert response["Location"] == f"/billing/invoices/{invoice.pk}/"
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payments.get().gateway == Gateway.DEMO
    assert customer.services.count() == 1
    page = signed_in.get(response["Location"]).content.decode()
    assert invoice.number in page
    assert 'id="pay"' not in page


def test_the_pdf_is_the_invoice_as_a_document(signed_in, invoice):
    signed_in.post(f"/billing/invoices/{invoice.pk}/pay/demo/")
    invoice.refresh_from_db()

    response = signed_in.get(f"/billing/invoices/{invoice.pk}/pdf/")

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'


def test_a_project_template_of_the_same_name_overrides_the_pdfs(
    signed_in, invoice, settings, tmp_path, monkeypatch
):
    import weasyprint

    ours = tmp_path / "billing" / "invoice_pdf.html"
    ours.parent.mkdir()
    ours.write_text("<h1>Our own invoice {{ invoice.pk }} for {{ buyer.email }}</h1>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    rendered = []
    real_html = weasyprint.HTML
    monkeypatch.setattr(
        weasyprint, "HTML", lambda string: rendered.append(string) or real_html(string=string)
    )

    response = signed_in.get(f"/billing/invoices/{invoice.pk}/pdf/")

    assert response.content.startswith(b"%PDF")
    assert rendered == [f"<h1>Our own invoice {invoice.pk} for alice@example.com</h1>"]


@override_settings(BILLING_BANK_TRANSFER_INSTRUCTIONS="Acme Ltd\nIBAN DE02 1203 0000 0000 2020 51")
def test_bank_transfer_shows_the_instructions_and_changes_nothing(signed_in, invoice):
    response = signed_in.post(f"/billing/invoices/{invoice.pk}/pay/bank_transfer/")

    page = response.content.decode()
    assert "IBAN DE02 1203 0000 0000 2020 51" in page
    assert f"INVOICE {invoice.pk}" in page
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID


def test_credit_pays_an_invoice_from_its_page(signed_in, invoice, customer):
    CreditEntry.objects.create(customer=customer, amount=Decimal("20"), reason="gift")

    signed_in.post(f"/billing/invoices/{invoice.pk}/credit/")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert credit_balance(customer) == Decimal("10.01")


def test_adding_funds_makes_an_untaxed_invoice_that_credits_once_paid(signed_in, customer):
    response = signed_in.post("/billing/credit/", {"amount": "25.00"})
    invoice = customer.invoices.get()
    assert response["Location"] == f"/billing/invoices/{invoice.pk}/"

    signed_in.post(f"/billing/invoices/{invoice.pk}/pay/demo/")

    assert credit_balance(customer) == Decimal("25.00")
    assert "25.00 EUR" in signed_in.get("/billing/credit/").content.decode()


def test_adding_funds_out_of_bounds_is_refused(signed_in, customer, settings):
    response = signed_in.post("/billing/credit/", {"amount": "0.50"})

    assert f"Add between {settings.BILLING_ADD_FUNDS_MIN}" in response.content.decode()
    assert not customer.invoices.exists()


def test_another_customers_invoice_is_404(other_customer, invoice, client):
    client.force_login(other_customer.user)

    for url in (f"/billing/invoices/{invoice.pk}/", f"/billing/invoices/{invoice.pk}/pdf/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/billing/invoices/{invoice.pk}/pay/demo/").status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID


def test_the_demo_gateway_is_offered_only_when_its_setting_is_on():
    with override_settings(BILLING_DEMO_GATEWAY=False):
        assert Gateway.DEMO not in gateways()
    with override_settings(BILLING_DEMO_GATEWAY=True):
        assert Gateway.DEMO in gateways()


def test_production_settings_refuse_the_demo_gateway(tmp_path):
    env = {**PRODUCTION_ENV, "BILLING_DEMO_GATEWAY": "1"}

    result = _run([sys.executable, "manage.py", "check"], env, tmp_path)

    assert result.returncode != 0
    assert "BILLING_DEMO_GATEWAY cannot be on in production" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_paid_invoice_that_ordered_a_service_points_to_my_services(signed_in, invoice):
    assert (
        'id="services-ordered"'
        not in signed_in.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    )
    payment_record(
        invoice=invoice, amount=invoice.total, gateway=Gateway.BANK_TRANSFER, reference="T-9",
        actor=None,
    )  # fmt: skip

    page = signed_in.get(f"/billing/invoices/{invoice.pk}/").content.decode()

    assert 'id="services-ordered"' in page
    assert '<a href="/services/">My services</a>' in page


def test_visitors_see_the_cart_sign_in_and_sign_up_in_the_header(client):
    page = client.get("/").content.decode()

    for link in (
        'href="/cart/">Cart<',
        'href="/accounts/login/">Sign in<',
        'href="/accounts/signup/">Sign up<',
    ):
        assert link in page
