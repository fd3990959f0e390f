"""Cancellation over time (time-machine moves the one clock; the simulator is the panel, the
worker's runs are made in-process): asked for the end of the period → approved → no renewal
for the next period → terminated on that day, its client deleted; asked for at once →
terminated now; with manual approval it waits for an admin, who approves (the customer is
emailed) or rejects (the customer reads why); withdrawn, renewals go on; asked twice, one;
another customer's service is a 404; the daily run twice terminates once."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from portal.billing.models import (
    BillingEvent,
    CancellationRequest,
    CancellationStatus,
    InvoiceStatus,
    Renewal,
    Subscription,
)
from portal.billing.services import LineSpec, invoice_create
from portal.billing.services.cancellations import (
    cancellation_approve,
    cancellation_request,
    cancellations_run,
)
from portal.billing.services.dunning import overdue_reminders_send, overdue_services_suspend
from portal.billing.services.renewals import renewals_issue
from portal.billing.tasks import run_dunning
from portal.notifications.models import EmailRecord
from portal.notifications.payload import text_body
from provisioning import services
from provisioning.models import Service, ServiceAction, ServiceStatus
from tests.billing.helpers import at, pay
from vpnpanel import PanelClient

pytestmark = [pytest.mark.usefixtures("sent_tasks", "private_cache")]

END, NOW = "end_of_period", "immediately"


def order_paid(customer, product, on: str = "2027-01-10") -> Subscription:
    """A monthly VPN 100 paid on ``on`` (next due a month later)."""
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal("9.99"), product=product,
        cycle="monthly",
    )  # fmt: skip
    with at(on):
        pay(invoice_create(customer=customer, lines=[line], actor=None), f"bank-{on}")
    return Subscription.objects.select_related("service").get(customer=customer)


def run_worker(service: Service) -> None:
    services.service_run_pending_action(service_id=service.pk)
    service.refresh_from_db()


def on_panel(simulator, service) -> str | None:
    clients = PanelClient(simulator.url, simulator.token).clients()
    return {client.name: client.status for client in clients}.get(service.remote_name)


@pytest.fixture
def billing_settings(settings):
    """Emails recorded; renewals a week ahead; sessions that outlive the time travel."""
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    settings.PORTAL_BASE_URL = "https://shop.example.com"
    settings.BILLING_RENEWAL_DAYS_BEFORE = 7
    settings.SESSION_COOKIE_AGE = 10 * 365 * 86400  # signed in today, the clock moves to 2027


@pytest.fixture
def vpn(customer, simulator, server_for, product_for, billing_settings) -> Subscription:
    """A monthly service paid on 10 Jan 2027 (due again 10 Feb), its client on the simulator."""
    product = product_for((server_for(simulator), "office"), name="VPN 100")
    subscription = order_paid(customer, product)
    with at("2027-01-10"):
        run_worker(subscription.service)
    assert subscription.service.status == ServiceStatus.ACTIVE
    return subscription


@pytest.fixture
def active(customer, product, billing_settings) -> Subscription:
    """The same service without a panel: active in the database only."""
    subscription = order_paid(customer, product)
    Service.objects.filter(pk=subscription.service_id).update(
        status=ServiceStatus.ACTIVE, pending_action=""
    )
    subscription.service.refresh_from_db()
    return subscription


def ask(client, subscription, when: str = END, **extra):
    data = {"when": when, "reason": "Moving abroad", "confirm": "on", **extra}
    url = reverse("billing:cancellation_request", args=[subscription.service_id])
    return client.post(url, data)


# With the panel -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_end_of_period_stops_the_renewal_and_terminates_on_the_due_date(vpn, simulator, signed_in):
    service = vpn.service
    with at("2027-01-20"):
        response = ask(signed_in, vpn)
    assert response.status_code == 302
    assert response["Location"] == f"/services/{service.pk}/#cancellation"
    cancellation = CancellationRequest.objects.get()
    assert (cancellation.status, cancellation.terminate_on) == ("approved", date(2027, 2, 10))
    assert cancellation.reason == "Moving abroad"

    [email] = EmailRecord.objects.filter(kind="cancellation_confirmed")
    assert email.subject == (
        f"Cancellation confirmed: your VPN service #{service.pk} ends on 10 Feb 2027"
    )
    text = text_body(email.message)
    assert "It keeps working until 10 Feb 2027" in text
    assert f"https://shop.example.com/services/{service.pk}/" in text

    with at("2027-02-03"):
        assert renewals_issue() == []  # the period from 10 Feb is not renewed
    with at("2027-02-09"):
        assert cancellations_run() == 0
        service.refresh_from_db()
        assert service.status == ServiceStatus.ACTIVE
        assert on_panel(simulator, service) == "enable"
    with at("2027-02-10"):
        assert cancellations_run() == 1
        run_worker(service)

    assert service.status == ServiceStatus.TERMINATED
    assert on_panel(simulator, service) is None
    assert Renewal.objects.count() == 0
    cancellation.refresh_from_db()
    assert cancellation.status == CancellationStatus.DONE
    assert list(
        BillingEvent.objects.filter(action__startswith="cancellation_")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["cancellation_requested", "cancellation_approved", "cancellation_done"]


@pytest.mark.django_db(transaction=True)
def test_immediately_terminates_now(vpn, simulator, signed_in):
    service = vpn.service
    with at("2027-01-20"):
        response = ask(signed_in, vpn, when=NOW)
        told = signed_in.get(response["Location"]).content.decode()
        assert "the service is being terminated now" in told
        service.refresh_from_db()
        assert service.pending_action == ServiceAction.TERMINATE  # asked at once
        run_worker(service)

    assert service.status == ServiceStatus.TERMINATED
    assert on_panel(simulator, service) is None
    cancellation = CancellationRequest.objects.get()
    assert (cancellation.status, cancellation.terminate_on) == ("done", date(2027, 1, 20))
    [email] = EmailRecord.objects.filter(kind="cancellation_confirmed")
    assert "is being terminated now" in email.subject
    with at("2027-02-03"):
        assert renewals_issue() == []


@pytest.mark.django_db
def test_the_confirmation_names_the_plan_the_service_is_on_now(active, customer):
    Subscription.objects.filter(pk=active.pk).update(description="VPN 500 (monthly)")
    active.refresh_from_db()
    with at("2027-01-20"):
        cancellation_request(subscription=active, when=END, reason="", actor=customer.user)

    [email] = EmailRecord.objects.filter(kind="cancellation_confirmed")
    assert "(VPN 500 (monthly))" in text_body(email.message)
    assert "VPN 100" not in text_body(email.message)


# Approval, rejection, withdrawal -----------------------------------------------------------------


@pytest.mark.django_db
def test_with_manual_approval_it_waits_for_an_admin_whose_approval_emails_the_customer(
    active, signed_in, admin_client, settings
):
    settings.BILLING_CANCELLATION_AUTO_APPROVE = False
    with at("2027-02-05"):
        [renewal] = renewals_issue()  # the period from 10 Feb, issued on 3 Feb's horizon
        ask(signed_in, active)
    cancellation = CancellationRequest.objects.get()
    assert cancellation.status == CancellationStatus.REQUESTED
    assert not EmailRecord.objects.filter(kind="cancellation_confirmed").exists()
    page = signed_in.get(f"/services/{active.service_id}/").content.decode()
    assert "We are looking at your request" in page

    url = reverse("admin:billing_cancellationrequest_approve", args=[cancellation.pk])
    with at("2027-02-06"):
        assert admin_client.get(url).status_code == 200  # the confirmation page
        assert admin_client.post(url, {"note": "ok"}).status_code == 302

    cancellation.refresh_from_db()
    assert cancellation.status == CancellationStatus.APPROVED
    assert cancellation.decided_by.is_staff
    assert EmailRecord.objects.filter(kind="cancellation_confirmed").count() == 1
    renewal.invoice.refresh_from_db()
    assert renewal.invoice.status == InvoiceStatus.CANCELLED  # the period after the end
    with at("2027-02-11"):  # the cancelled renewal is neither reminded nor dunned
        assert overdue_reminders_send() == 0
        assert renewals_issue() == []
    with at("2027-02-20"):
        assert overdue_services_suspend() == 0


@pytest.mark.django_db
def test_a_rejected_request_is_shown_to_the_customer_with_the_note(
    active, signed_in, admin_client, settings
):
    settings.BILLING_CANCELLATION_AUTO_APPROVE = False
    ask(signed_in, active)
    cancellation = CancellationRequest.objects.get()
    url = reverse("admin:billing_cancellationrequest_reject", args=[cancellation.pk])

    admin_client.post(url, {"note": "Your contract runs for a year."})

    cancellation.refresh_from_db()
    assert cancellation.status == CancellationStatus.REJECTED
    page = signed_in.get(f"/services/{active.service_id}/").content.decode()
    assert "was not approved: Your contract runs for a year." in page
    assert "Request cancellation" in page  # and may ask again
    assert BillingEvent.objects.filter(action="cancellation_rejected").count() == 1


@pytest.mark.django_db
def test_a_withdrawn_cancellation_lets_the_renewal_be_issued_again(active, signed_in):
    with at("2027-02-04"):
        [first] = renewals_issue()
        ask(signed_in, active)
        first.invoice.refresh_from_db()
        assert first.invoice.status == InvoiceStatus.CANCELLED
        response = signed_in.post(
            reverse("billing:cancellation_withdraw", args=[active.service_id])
        )
    assert response.status_code == 302
    assert CancellationRequest.objects.get().status == CancellationStatus.WITHDRAWN

    with at("2027-02-05"):
        [again] = renewals_issue()
        assert cancellations_run(today=date(2027, 2, 10)) == 0
    assert again.period_start == date(2027, 2, 10)
    assert again.invoice.status == InvoiceStatus.UNPAID


@pytest.mark.django_db
def test_paid_on_before_approval_the_end_of_the_period_moves_with_the_payment(
    active, customer, settings
):
    settings.BILLING_CANCELLATION_AUTO_APPROVE = False
    with at("2027-02-04"):
        [renewal] = renewals_issue()
        cancellation = cancellation_request(
            subscription=active, when=END, reason="", actor=customer.user
        )
        pay(renewal.invoice, "bank-renewal")
        approved = cancellation_approve(cancellation=cancellation, actor=None)

    assert approved.terminate_on == date(2027, 3, 10)  # the month just paid for runs out


# Once, and only the owner's ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_double_submit_makes_one_request(active, signed_in):
    ask(signed_in, active)
    ask(signed_in, active)

    assert CancellationRequest.objects.count() == 1
    assert EmailRecord.objects.filter(kind="cancellation_confirmed").count() == 1


@pytest.mark.django_db
def test_without_the_confirmation_nothing_is_asked(active, signed_in):
    response = ask(signed_in, active, confirm="")

    assert response.status_code == 302
    assert not CancellationRequest.objects.exists()
    page = signed_in.get(response["Location"]).content.decode()
    assert "Tick the box to confirm" in page


@pytest.mark.django_db
def test_another_customers_service_is_404_and_untouched(active, client, other_customer):
    client.force_login(other_customer.user)

    assert ask(client, active).status_code == 404
    url = reverse("billing:cancellation_withdraw", args=[active.service_id])
    assert client.post(url).status_code == 404
    assert not CancellationRequest.objects.exists()


@pytest.mark.django_db
def test_a_get_changes_nothing(active, signed_in):
    for name in ("billing:cancellation_request", "billing:cancellation_withdraw"):
        url = reverse(name, args=[active.service_id])
        assert signed_in.get(url, {"when": END, "confirm": "on"}).status_code == 405
    assert not CancellationRequest.objects.exists()


@pytest.mark.django_db
def test_the_daily_run_twice_terminates_once(active, customer, sent_tasks):
    with at("2027-01-20"):
        cancellation_request(subscription=active, when=END, reason="", actor=customer.user)
    with at("2027-02-10"):
        first = run_dunning()
        second = run_dunning()

    assert (first["cancellations_done"], second["cancellations_done"]) == (1, 0)
    service = Service.objects.get()
    assert service.pending_action == ServiceAction.TERMINATE
    assert service.events.filter(action="terminate_requested").count() == 1
    assert BillingEvent.objects.filter(action="cancellation_done").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_service_an_admin_terminated_is_closed_by_the_next_run(
    active, customer, settings
):
    settings.BILLING_CANCELLATION_AUTO_APPROVE = False
    with at("2027-01-20"):
        cancellation = cancellation_request(
            subscription=active, when=END, reason="", actor=customer.user
        )
    Service.objects.filter(pk=active.service_id).update(status=ServiceStatus.TERMINATED)
    with at("2027-01-21"):
        assert run_dunning()["cancellations_done"] == 0

    cancellation.refresh_from_db()
    assert cancellation.status == "done"
    event = BillingEvent.objects.get(action="cancellation_done")
    assert event.data["reason"] == "The service had already been terminated"


# The card ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_card_offers_the_form_then_the_request_with_withdraw(active, signed_in):
    page = signed_in.get(f"/services/{active.service_id}/").content.decode()
    assert 'id="cancellation"' in page
    assert "At the end of the paid period, on 10 Feb 2027" in page
    assert reverse("billing:cancellation_request", args=[active.service_id]) in page

    with at("2027-01-20"):
        ask(signed_in, active)
    page = signed_in.get(f"/services/{active.service_id}/").content.decode()
    assert "keeps working until <strong>10 Feb 2027</strong>" in page
    assert reverse("billing:cancellation_withdraw", args=[active.service_id]) in page
    assert "Request cancellation" not in page


# The admin ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_lists_requests_and_shows_them_on_the_subscription(
    active, signed_in, admin_client, settings
):
    settings.BILLING_CANCELLATION_AUTO_APPROVE = False
    ask(signed_in, active)
    cancellation = CancellationRequest.objects.get()
    approve = reverse("admin:billing_cancellationrequest_approve", args=[cancellation.pk])

    listed = admin_client.get("/admin/billing/cancellationrequest/?status__exact=requested")
    shown = admin_client.get(f"/admin/billing/cancellationrequest/{cancellation.pk}/change/")
    subscription = admin_client.get(f"/admin/billing/subscription/{active.pk}/change/")

    assert approve in listed.content.decode()
    assert approve in shown.content.decode()
    assert "Moving abroad" in subscription.content.decode()
    assert admin_client.get(approve).status_code == 200
    assert CancellationRequest.objects.get().status == CancellationStatus.REQUESTED  # a GET
