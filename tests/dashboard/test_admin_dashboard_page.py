"""The dashboard on the admin index: every block for a superadmin, each figure a link to the
admin list it counts; only the blocks a role may see (a *support* user gets no money, a
*billing* user no panels); the same number of queries however much data there is."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from portal.accounts.roles import BILLING, SUPPORT
from portal.billing.models import TaxRate
from portal.billing.services import LineSpec, invoice_create
from portal.core.models import Branding
from portal.dashboard import selectors
from tests.dashboard.seeding import seed, subscribe
from tests.factories import ProductFactory, ServerFactory, StaffFactory
from tests.queries import page_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

INDEX = "/admin/"
MONEY_LABELS = [
    "New orders this month",
    "Revenue this month (received, incl. tax)",
    "MRR (net of tax)",
    "Overdue invoices",
]


def client_of(role: str) -> Client:
    user = StaffFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def block(html: str, block_id: str) -> str:
    """The markup of the dashboard block ``block_id`` (up to the next block)."""
    match = re.search(rf'id="{block_id}">(.*?)(?=<div class="module|$)', html, re.S)
    assert match, f"no block {block_id}"
    return match.group(1)


def figure_links(html: str) -> dict[str, str]:
    """Each dashboard figure's label and link."""
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td class="dashboard-figure"><a href="([^"]+)"', html
    )
    return {label: unescape(url) for label, url in rows}


def test_a_superadmin_sees_every_block_and_the_chart(admin_client):
    seed(panels=2, services=6)

    html = admin_client.get(INDEX).content.decode()

    for block_id in ["attention-summary", "dashboard-services", "dashboard-money"]:
        assert f'id="{block_id}"' in html
    assert 'id="dashboard-panels"' in html
    assert html.count("<canvas data-panel-id=") == 2
    assert 'id="dashboard-panel-activity" type="application/json"' in html
    assert "vendor/chart.umd.min.js" in html
    assert "portal/dashboard.js" in html
    assert set(MONEY_LABELS) <= set(figure_links(html))
    # each panel: an active, a suspended and a failed service; the failed one holds no account
    assert html.count("Slots: <strong>2 / 50</strong> used") == 2


def test_each_figure_links_to_the_admin_list_of_what_it_counts(admin_client):
    seed(panels=1, services=6)
    html = admin_client.get(INDEX).content.decode()
    links = figure_links(html)

    counted = {
        "Active": 3, "Failed": 2, "Failed services": 2, "Suspended": 2, "Parked actions": 0,
        "Open reconciliation findings": 1, "New orders this month": 1, "Overdue invoices": 1,
    }  # fmt: skip
    for label, count in counted.items():
        page = admin_client.get(links[label])
        assert page.status_code == 200, label
        assert page.context["cl"].result_count == count, label
    for label in [*MONEY_LABELS[1:3], "Overdue amount", "Flagged for an admin"]:
        assert admin_client.get(links[label]).status_code == 200, label
    money = block(html, "dashboard-money")
    assert ">20.00 EUR<" in money  # overdue
    assert ">27.00 EUR<" in money  # revenue: the subscription's first quarter
    assert ">9.00 EUR<" in money  # MRR: 27.00 a quarter


def test_the_overdue_link_lists_what_the_figure_counts_without_add_funds_invoices(
    admin_client, customer
):
    seed(panels=1, services=3)  # one overdue invoice of 20.00
    top_up = LineSpec(description="Add funds", unit_price=Decimal("50"), adds_credit=True)
    invoice_create(
        customer=customer, lines=[top_up], actor=None, due_at=timezone.now() - timedelta(days=3)
    )

    html = admin_client.get(INDEX).content.decode()
    listed = admin_client.get(figure_links(html)["Overdue invoices"]).context["cl"]

    assert selectors.overdue_invoices().count == 1
    assert listed.result_count == 1
    assert [invoice.total for invoice in listed.result_list] == [Decimal("20.00")]


def test_revenue_is_received_with_tax_and_mrr_net_each_labelled(admin_client, customer):
    Branding.objects.update_or_create(pk=1, defaults={"country": "DE", "vat_id": "DE136695976"})
    TaxRate.objects.create(country="DE", name="VAT", rate=Decimal("19"))
    subscribe(customer, ProductFactory(), "monthly", "4.99")

    money = block(admin_client.get(INDEX).content.decode(), "dashboard-money")

    figures = dict(re.findall(r'<th scope="row">([^<]+)</th>.*?<a [^>]+>([^<]+)</a>', money, re.S))
    assert figures["Revenue this month (received, incl. tax)"] == "5.94 EUR"  # 4.99 + 19 %
    assert figures["MRR (net of tax)"] == "4.99 EUR"
    assert "(tax included, as paid)" in money
    assert "per month, net of tax" in money


def test_a_support_user_sees_services_and_panel_calls_but_no_money():
    seed(panels=1, services=3)

    html = client_of(SUPPORT).get(INDEX).content.decode()

    assert 'id="dashboard-services"' in html
    assert 'id="attention-summary"' in html
    assert "Open reconciliation findings" in html
    assert 'id="dashboard-money"' not in html
    for label in MONEY_LABELS:
        assert label not in html
    assert "EUR" not in html
    assert "<canvas data-panel-id=" in html  # the module log is theirs to see
    assert "Slots:" not in html  # servers are not


def test_a_billing_user_sees_money_and_services_but_no_panels():
    seed(panels=1, services=3)

    html = client_of(BILLING).get(INDEX).content.decode()

    assert 'id="dashboard-money"' in html
    assert set(MONEY_LABELS) <= set(figure_links(html))
    assert 'id="dashboard-services"' in html
    assert 'id="dashboard-panels"' not in html
    assert "1 reconciliation finding" in html  # as the Needs attention page lists it
    assert "Open reconciliation findings" not in html  # the findings list is not theirs


def test_a_staff_user_without_rights_sees_no_block():
    seed(panels=1, services=3)
    client = Client()
    client.force_login(StaffFactory(is_superuser=False))

    html = client.get(INDEX).content.decode()

    assert "dashboard-figure" not in html
    assert "attention-summary" not in html
    assert "dashboard-panels" not in html


def test_a_panel_shows_its_licence_slots_as_last_seen_and_a_lower_local_cap(admin_client, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    seed(panels=1, services=3)
    ServerFactory(
        name="Licensed", max_accounts=20, panel_accounts_used=30, panel_accounts_total=120,
        panel_status_at=datetime(2027, 2, 20, 9, 30, tzinfo=UTC),
    )  # fmt: skip

    panels = block(admin_client.get(INDEX).content.decode(), "dashboard-panels")

    (licensed,) = [part for part in panels.split("<section")[1:] if "Licensed" in part]
    text = " ".join(re.sub(r"<[^>]+>", " ", licensed).split())
    # as of: the provider's time
    assert "Slots: 30 / 120 used on the panel as of 20 Feb 2027, 10:30" in text
    assert "Our services: 0 of a local cap of 20" in text
    assert '<progress max="120" value="30">' in licensed
    # a panel whose slots were never read shows our services against its local cap
    assert "Slots: <strong>2 / 50</strong> used (local cap; the panel's licence slots" in panels


def test_panel_names_are_escaped_in_the_page_and_the_chart_data(admin_client):
    ServerFactory(name="<script>alert(1)</script>")

    html = admin_client.get(INDEX).content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("client_name", ["superadmin", SUPPORT, BILLING])
def test_the_index_makes_the_same_number_of_queries_however_much_data(admin_client, client_name):
    client = admin_client if client_name == "superadmin" else client_of(client_name)
    seed(panels=1, services=3)
    small = page_queries(client, INDEX)
    seed(panels=4, services=27)  # 5 panels, 30 services in all

    assert page_queries(client, INDEX) == small
