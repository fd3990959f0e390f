"""The customer's invoices (list, one, the PDF) and credit in the API: the billing pages' figures,
exact amounts as strings, only the customer's own."""

from decimal import Decimal

import pytest

from portal.billing import views as billing_views
from portal.billing.models import CreditEntry, TaxRate
from tests.api.staff_helpers import unpaid_invoice
from tests.api.test_tokens_and_errors import assert_error
from tests.billing.helpers import pay
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
INVOICES = "/api/v1/invoices/"
PER_INVOICE = ["/api/v1/invoices/{pk}/", "/api/v1/invoices/{pk}/pdf/"]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_shows_only_the_customers_own_invoices_paged_and_filtered(
    owner_api, customer, other_customer, product
):
    unpaid = [unpaid_invoice(customer, product) for _ in range(2)]
    paid = unpaid_invoice(customer, product)
    pay(paid, "bank-list")
    unpaid_invoice(other_customer, product)

    assert set(ids(owner_api.get(INVOICES))) == {paid.pk, *(i.pk for i in unpaid)}
    page = owner_api.get(INVOICES, {"page_size": 2, "page": 2}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 1
    assert ids(owner_api.get(INVOICES, {"status": "paid"})) == [paid.pk]
    assert set(ids(owner_api.get(INVOICES, {"status": "unpaid"}))) == {i.pk for i in unpaid}
    error = assert_error(owner_api.get(INVOICES, {"status": "nonsense"}), 400, "invalid")
    assert "status" in error["fields"]


def test_an_invoice_shows_its_lines_tax_and_totals_as_exact_strings(owner_api, customer, product):
    TaxRate.objects.create(country="DE", name="VAT", rate=Decimal("19.00"))
    customer.country = "DE"
    customer.save()
    invoice = unpaid_invoice(customer, product, "10.00")

    body = owner_api.get(f"{INVOICES}{invoice.pk}/").json()

    assert (body["kind"], body["status"], body["number"]) == ("invoice", "unpaid", None)
    assert (body["currency"], body["tax_rate"], body["tax_label"]) == ("EUR", "19.00", "VAT 19%")
    assert (body["subtotal"], body["tax_amount"], body["total"]) == ("10.00", "1.90", "11.90")
    assert (body["amount_paid"], body["balance_due"], body["paid_at"]) == ("0.00", "11.90", None)
    assert body["due_at"]
    assert body["issued_at"]
    assert body["lines"] == [
        {
            "description": "VPN 100 (monthly)", "quantity": 1, "unit_price": "10.00",
            "amount": "10.00", "product_id": product.pk, "cycle": "monthly",
        }
    ]  # fmt: skip
    assert "no-store" in owner_api.get(f"{INVOICES}{invoice.pk}/")["Cache-Control"]


def test_a_paid_invoice_has_its_number_and_paid_date(owner_api, customer, product):
    invoice = unpaid_invoice(customer, product, "9.99")
    pay(invoice, "bank-paid")

    body = owner_api.get(f"{INVOICES}{invoice.pk}/").json()

    assert (body["status"], body["number"]) == ("paid", invoice.number)
    assert (body["amount_paid"], body["balance_due"]) == ("9.99", "0.00")
    assert body["paid_at"].startswith(invoice.paid_at.date().isoformat())


def test_the_pdf_is_the_invoice_pages_document(owner_api, customer, product):
    invoice = unpaid_invoice(customer, product)
    pay(invoice, "bank-pdf")

    response = owner_api.get(f"{INVOICES}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]


def test_pdfs_share_the_pdf_pages_rate_limit_and_refuse_in_json(
    owner_api, signed_in, customer, product, monkeypatch
):
    monkeypatch.setattr(billing_views, "PDF_RATE_LIMIT", 1)
    invoice = unpaid_invoice(customer, product)
    assert signed_in.get(f"/billing/invoices/{invoice.pk}/pdf/").status_code == 200

    response = owner_api.get(f"{INVOICES}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    error = assert_error(response, 429, "throttled")
    assert error["message"].startswith(billing_views.TOO_MANY_PDFS)
    assert response["Retry-After"]


@pytest.mark.parametrize("url", PER_INVOICE)
def test_another_customers_invoice_is_a_404(other_api, customer, product, url):
    invoice = unpaid_invoice(customer, product)

    response = other_api.get(url.format(pk=invoice.pk))

    assert_error(response, 404, "not_found")


def test_another_customers_pdf_is_a_404_in_json_when_a_pdf_is_asked_for(
    other_api, customer, product
):
    invoice = unpaid_invoice(customer, product)

    response = other_api.get(f"{INVOICES}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("url", [INVOICES, *PER_INVOICE, "/api/v1/credit/"])
def test_a_staff_user_without_a_customer_record_is_refused(staff_api, customer, product, url):
    invoice = unpaid_invoice(customer, product)

    assert_error(staff_api.get(url.format(pk=invoice.pk)), 403, "permission_denied")


def test_the_list_costs_the_same_queries_for_one_invoice_or_many(owner_api, customer, product):
    unpaid_invoice(customer, product)
    one = page_queries(owner_api, INVOICES)

    for _ in range(4):
        pay(unpaid_invoice(customer, product), f"bank-{_}")

    assert page_queries(owner_api, INVOICES) == one


def test_credit_is_the_balance_and_the_latest_movements(
    owner_api, customer, other_customer, product
):
    invoice = unpaid_invoice(customer, product, "4.00")
    CreditEntry.objects.create(customer=customer, amount=Decimal("20.00"), reason="Refund")
    CreditEntry.objects.create(
        customer=customer, amount=Decimal("-4.00"), reason="Paid an invoice", invoice=invoice
    )
    CreditEntry.objects.create(customer=other_customer, amount=Decimal("50"), reason="Theirs")

    body = owner_api.get("/api/v1/credit/").json()

    assert (body["balance"], body["currency"]) == ("16.00", "EUR")
    assert [(e["amount"], e["reason"], e["invoice_id"]) for e in body["entries"]] == [
        ("-4.00", "Paid an invoice", invoice.pk),
        ("20.00", "Refund", None),
    ]


def test_credit_shows_as_many_movements_as_the_credit_page(owner_api, customer, monkeypatch):
    monkeypatch.setattr(billing_views, "CREDIT_ENTRIES_SHOWN", 2)
    for amount in ("1.00", "2.00", "3.00"):
        CreditEntry.objects.create(customer=customer, amount=Decimal(amount), reason="gift")

    body = owner_api.get("/api/v1/credit/").json()

    assert body["balance"] == "6.00"
    assert [e["amount"] for e in body["entries"]] == ["3.00", "2.00"]
