"""The "Change plan" page of a customer's service (the clock moved with time-machine; the plans'
panels are the simulator): the other plans on sale for the service's cycle with what moving to
each costs today, a sold-out plan shown but not selectable; switching up leads to the invoice,
switching down applies at once and credits; another customer's service is a 404; a GET or a
POST without the CSRF token changes nothing; the service's page has the plan card.

And the acceptance test, end to end: the customer switches to a plan with more bandwidth, pays
the invoice, the worker runs and the client's bandwidth on the simulator is the new plan's."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from portal.billing.models import Invoice, InvoiceStatus, PlanChange, PlanChangeStatus, Subscription
from portal.billing.selectors import credit_balance
from portal.billing.services import LineSpec, invoice_create
from provisioning import services
from provisioning.models import Server, Service, ServiceStatus
from tests.billing.helpers import at, pay
from tests.factories import PlanFactory, PlanPriceFactory
from vpnpanel import PanelClient

pytestmark = [pytest.mark.usefixtures("private_cache", "sent_tasks", "long_sessions")]


@pytest.fixture
def long_sessions(settings):
    settings.SESSION_COOKIE_AGE = 10 * 365 * 86400  # signed in today, the clock moves to 2027


@pytest.fixture
def plans(shop_plan, product_for):
    """Besides VPN 100 (9.99 a month): VPN 500 and VPN 10 on the same panel, VPN Max on a
    network the panel does not have (sold out), VPN Year sold only annually."""
    server = Server.objects.get()

    def plan(name: str, slug: str, price: str, *targets, cycle: str = "monthly", **speeds):
        product = product_for(*targets, name=name, **speeds)
        on_sale = PlanFactory(product=product, slug=slug)
        PlanPriceFactory(plan=on_sale, cycle=cycle, price=Decimal(price))
        return on_sale

    office = (server, "office")
    return {
        "big": plan("VPN 500", "vpn-500", "19.99", office, download_mbps=500, upload_mbps=200),
        "small": plan("VPN 10", "vpn-10", "4.99", office, download_mbps=10, upload_mbps=5),
        "gone": plan("VPN Max", "vpn-max", "29.99", (server, "no-such-network")),
        "yearly": plan("VPN Year", "vpn-year", "99.00", office, cycle="annual"),
    }


def order_paid(customer, plan) -> Subscription:
    """A monthly ``plan`` at 9.99 paid on 10 Jan 2027 (due again 10 Feb)."""
    line = LineSpec(
        description=f"{plan.name} (monthly)", unit_price=Decimal("9.99"), product=plan.product,
        cycle="monthly",
    )  # fmt: skip
    with at("2027-01-10"):
        pay(invoice_create(customer=customer, lines=[line], actor=None), "bank-order")
    return Subscription.objects.select_related("service").get(customer=customer)


@pytest.fixture
def active(customer, shop_plan) -> Subscription:
    """The VPN 100 service, active in the database only."""
    subscription = order_paid(customer, shop_plan)
    Service.objects.filter(pk=subscription.service_id).update(
        status=ServiceStatus.ACTIVE, pending_action="", action_requested_at=None,
        action_due_at=None, action_token=None,
    )  # fmt: skip
    return subscription


def page_url(subscription) -> str:
    return reverse("store:change_plan", args=[subscription.service_id])


@pytest.mark.django_db
def test_the_page_lists_the_other_plans_with_what_each_costs_today(signed_in, active, plans):
    with at("2027-01-20"):
        page = signed_in.get(page_url(active)).content.decode()

    assert 'id="current-plan">VPN 100<' in page
    assert "paid until 10 Feb 2027" in page
    big = page.split('id="plan-vpn-500"')[1].split("</tr>")[0]
    # 21 of the 31 days left: 9.99 * 21/31 = 6.77 credited, 19.99 * 21/31 = 13.54 charged.
    assert "6.77 EUR (21 of 31 days)" in big
    assert "13.54 EUR" in big
    assert "6.77 EUR before tax" in big
    assert f'name="plan" value="{plans["big"].pk}"' in big
    small = page.split('id="plan-vpn-10"')[1].split("</tr>")[0]
    assert "nothing: 3.39 EUR to your credit" in small
    gone = page.split('id="plan-vpn-max"')[1].split("</tr>")[0]
    assert "Sold out" in gone
    assert 'name="plan"' not in gone
    assert 'id="plan-vpn-year"' not in page  # not sold monthly
    assert 'id="plan-vpn-100"' not in page  # its own


@pytest.mark.django_db
def test_switching_up_leads_to_the_invoice_to_pay(signed_in, active, plans):
    with at("2027-01-20"):
        response = signed_in.post(page_url(active), {"plan": plans["big"].pk})
        change = PlanChange.objects.get()
        assert response["Location"] == reverse("billing:invoice_detail", args=[change.invoice_id])
        invoice_page = signed_in.get(response["Location"]).content.decode()

    assert f"Pay invoice {change.invoice} to move to VPN 500." in invoice_page
    assert "21 of 31 days, 20 Jan 2027 to 9 Feb 2027" in invoice_page
    assert change.status == PlanChangeStatus.PENDING
    assert change.invoice.subtotal == Decimal("6.77")


@pytest.mark.django_db
def test_switching_down_applies_at_once_and_credits(signed_in, active, plans, customer):
    with at("2027-01-20"):
        response = signed_in.post(page_url(active), {"plan": plans["small"].pk})
        told = signed_in.get(response["Location"]).content.decode()

    assert response["Location"] == reverse("client_area:service_detail", args=[active.service_id])
    assert "Your plan is now VPN 10. 3.39 EUR went to your credit balance." in told
    assert credit_balance(customer) == Decimal("3.39")
    assert PlanChange.objects.get().status == PlanChangeStatus.APPLIED


@pytest.mark.django_db
def test_a_sold_out_plan_is_refused(signed_in, active, plans):
    with at("2027-01-20"):
        response = signed_in.post(page_url(active), {"plan": plans["gone"].pk}, follow=True)

    assert "VPN Max is sold out just now, so nothing was changed." in response.content.decode()
    assert not PlanChange.objects.exists()
    assert not Invoice.objects.exclude(status=InvoiceStatus.PAID).exists()


@pytest.mark.django_db
def test_a_plan_not_sold_in_the_services_cycle_is_refused(signed_in, active, plans):
    with at("2027-01-20"):
        response = signed_in.post(page_url(active), {"plan": plans["yearly"].pk}, follow=True)

    assert "VPN Year is not sold monthly" in response.content.decode()
    assert not PlanChange.objects.exists()


@pytest.mark.django_db
def test_another_customers_service_is_not_found(active, plans, customer_factory):
    stranger = Client()
    stranger.force_login(customer_factory("mallory").user)
    with at("2027-01-20"):
        assert stranger.get(page_url(active)).status_code == 404
        assert stranger.post(page_url(active), {"plan": plans["big"].pk}).status_code == 404

    assert not PlanChange.objects.exists()


@pytest.mark.django_db
def test_a_get_or_a_post_without_csrf_changes_nothing(customer, active, plans):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    with at("2027-01-20"):
        assert browser.get(page_url(active), {"plan": plans["big"].pk}).status_code == 200
        assert browser.post(page_url(active), {"plan": plans["big"].pk}).status_code == 403

    assert not PlanChange.objects.exists()


@pytest.mark.django_db
def test_the_services_page_has_the_plan_card_with_a_change_plan_link(signed_in, active, plans):
    detail = reverse("client_area:service_detail", args=[active.service_id])
    with at("2027-01-20"):
        before = signed_in.get(detail).content.decode()
        signed_in.post(page_url(active), {"plan": plans["big"].pk})
        after = signed_in.get(detail).content.decode()

    card = before.split('id="plan"')[1].split("</section>")[0]
    assert "This service is on <strong>VPN 100</strong>, 9.99 EUR monthly." in card
    assert f'href="{page_url(active)}"' in card
    change = PlanChange.objects.get()
    assert "Your change to VPN 500 waits for the payment of" in after
    assert reverse("billing:invoice_detail", args=[change.invoice_id]) in after


@pytest.mark.django_db
def test_a_service_that_is_not_active_is_told_why(signed_in, active, plans):
    Service.objects.filter(pk=active.service_id).update(status=ServiceStatus.SUSPENDED)
    with at("2027-01-20"):
        page = signed_in.get(page_url(active)).content.decode()

    assert "Only an active service can change plan." in page
    assert 'name="plan"' not in page


@pytest.mark.django_db(transaction=True)
def test_an_upgrade_paid_changes_the_bandwidth_on_the_simulator(
    signed_in, customer, shop_plan, plans, simulator
):
    """The acceptance test: VPN 100 (100/50 Mbit/s) active on the simulator → the customer
    switches to VPN 500 (500/200) on the page → pays the invoice → the worker runs → the
    client's bandwidth on the panel is 500/200, and the service is on VPN 500."""
    subscription = order_paid(customer, shop_plan)
    service = subscription.service
    with at("2027-01-10"):
        services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    assert bandwidth_on_panel(simulator, service) == (100, 50)

    with at("2027-01-20"):
        response = signed_in.post(page_url(subscription), {"plan": plans["big"].pk})
        change = PlanChange.objects.get()
        assert response["Location"] == reverse("billing:invoice_detail", args=[change.invoice_id])
        services.service_run_pending_action(service_id=service.pk)  # nothing queued yet
        assert bandwidth_on_panel(simulator, service) == (100, 50)
        pay(change.invoice, "bank-upgrade")
        services.service_run_pending_action(service_id=service.pk)

    assert bandwidth_on_panel(simulator, service) == (500, 200)
    service.refresh_from_db()
    assert service.product_id == plans["big"].product_id
    assert not service.pending_action
    subscription.refresh_from_db()
    assert subscription.recurring_price == Decimal("19.99")
    change.refresh_from_db()
    assert change.status == PlanChangeStatus.APPLIED


def bandwidth_on_panel(simulator, service) -> tuple[int, int]:
    [client] = [
        client
        for client in PanelClient(simulator.url, simulator.token).clients()
        if client.name == service.remote_name
    ]
    return client.b_download, client.b_upload
