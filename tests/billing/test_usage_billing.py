"""Usage billing against the simulator: a month of a metered service's traffic → after the month,
one invoice with a download and an upload line (GB used, included, billable, price; amounts to
the cent); the panel down at invoice time → the last stored reading, and the lines say so; no
reading at all → not billed until the panel answers; run twice → billed once; nothing billable
→ no invoice; the traffic page's card shows the invoice's figures; the pricing in the admin.

The simulator keeps its own (real) clock, so the month billed is the last real calendar month;
the portal's clock is moved inside it with time-machine when a reading is taken "during" it."""

import calendar
import logging
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal.billing.models import (
    BillingEvent,
    CreditEntry,
    Invoice,
    InvoiceStatus,
    PlanChange,
    PlanChangeStatus,
    Subscription,
    UsageCharge,
    UsagePricing,
)
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.billing.services.usage import (
    months_to_bill,
    usage_charge_issue,
    usage_charges_issue,
)
from portal.billing.tasks import issue_usage_charges
from portal.notifications.models import EmailRecord
from provisioning import services
from provisioning.models import ServiceStatus, UsageSnapshot
from provisioning.usage import service_usage_refresh
from tests.concurrency import at_once
from tests.factories import CustomerFactory
from tests.services import postgresql_or_skip
from vpnpanel import PanelClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sent_tasks")]

GB = 10**9
TRAFFIC_DOWN = {"method": "GET", "path": r"^client/[^/]+/traffic/", "status": 500, "count": None}


def last_month() -> tuple[int, int]:
    today = datetime.now(UTC).date()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def in_month(year: int, month: int, day: int, hour: int = 12):
    """The portal's clock on that day of the month billed (the simulator's stays real)."""
    return time_machine.travel(datetime(year, month, day, hour, tzinfo=UTC), tick=False)


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def gb(value: int) -> Decimal:
    return (Decimal(value) / GB).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def month_title(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


@pytest.fixture
def metered(customer, simulator, server_for, product_for):
    """A metered monthly service ordered on the 1st of last month, its client on the simulator
    backdated to before then (a whole month of traffic); 0.50 EUR per GB downloaded beyond
    1 GB, 0.20 EUR per GB uploaded. ``metered(history=False)``: a client with no traffic."""

    servers = []  # one panel for every product made here

    def make(*, history: bool = True, buyer=None, name: str = "VPN Metered"):
        buyer = buyer or customer
        servers[:] = servers or [server_for(simulator)]
        product = product_for(
            (servers[0], "office"), name=name, metric_download=True, metric_upload=True,
        )  # fmt: skip
        UsagePricing.objects.create(
            product=product, price_per_gb_download=Decimal("0.50"),
            included_gb_download=Decimal("1"), price_per_gb_upload=Decimal("0.20"),
            starts_on=date(2020, 1, 1),
        )  # fmt: skip
        year, month = last_month()
        with in_month(year, month, 1):
            line = LineSpec(
                description="VPN Metered (monthly)", unit_price=Decimal("5.00"), product=product,
                cycle="monthly",
            )  # fmt: skip
            order = invoice_create(customer=buyer, lines=[line], actor=None)
            payment_record(
                invoice=order, amount=order.total, gateway="bank_transfer",
                reference=f"order-{order.pk}", actor=None,
            )  # fmt: skip
            subscription = Subscription.objects.get(customer=buyer)
            services.service_run_pending_action(service_id=subscription.service_id)
        service = subscription.service
        service.refresh_from_db()
        assert service.status == ServiceStatus.ACTIVE
        if history:
            days = (datetime.now(UTC).date() - date(year, month, 1)).days + 2
            simulator.knob("DELETE", f"clients/{service.remote_name}")
            simulator.knob(
                "POST", "clients",
                {"name": service.remote_name, "network_name": "office", "created_days_ago": days},
            )  # fmt: skip
        return subscription

    return make


def panel_totals(simulator, name: str, year: int, month: int) -> tuple[int, int]:
    days = PanelClient(simulator.url, simulator.token).traffic(name, year, month)
    return sum(d.download for d in days), sum(d.upload for d in days)


def test_a_month_of_traffic_is_invoiced_with_the_gb_used_included_billable_and_amounts(
    metered, simulator, settings
):
    settings.EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
    subscription = metered()
    service = subscription.service
    year, month = last_month()
    down, up = panel_totals(simulator, service.remote_name, year, month)
    assert down > GB
    assert up > 0

    [charge] = usage_charges_issue()

    invoice = charge.invoice
    down_gb, up_gb = gb(down), gb(up)
    down_billable = down_gb - 1
    lines = [(line.description, line.quantity, line.amount) for line in invoice.lines.all()]
    assert lines == [
        (
            f"Traffic {month_title(year, month)}, service #{service.pk}: {text(down_gb)} GB "
            f"downloaded, 1 GB included, {text(down_billable)} GB billable at 0.50 EUR/GB",
            1,
            cents(down_billable * Decimal("0.50")),
        ),
        (
            f"Traffic {month_title(year, month)}, service #{service.pk}: {text(up_gb)} GB "
            f"uploaded, 0 GB included, {text(up_gb)} GB billable at 0.20 EUR/GB",
            1,
            cents(up_gb * Decimal("0.20")),
        ),
    ]
    assert invoice.subtotal == lines[0][2] + lines[1][2] == charge.amount
    assert invoice.status == InvoiceStatus.UNPAID
    assert (charge.year, charge.month, charge.download_bytes, charge.upload_bytes) == (
        year, month, down, up,
    )  # fmt: skip
    assert not charge.from_snapshot
    [email] = EmailRecord.objects.filter(kind="invoice_issued", object_id=str(invoice.pk))
    assert email.subject.startswith(f"Invoice {invoice}: {invoice.total:.2f} EUR due ")
    # the fresh reading was stored as the month's snapshot
    snapshot = UsageSnapshot.objects.get(service=service, year=year, month=month)
    assert (snapshot.download_bytes, snapshot.upload_bytes) == (down, up)


def test_the_panel_down_at_invoice_time_bills_the_last_reading_and_the_lines_say_so(
    metered, simulator
):
    subscription = metered()
    service = subscription.service
    year, month = last_month()
    with in_month(year, month, last_day(year, month), hour=23):
        service_usage_refresh(service_id=service.pk)  # the hourly pull's last reading
    UsageSnapshot.objects.filter(service=service).update(
        download_bytes=25 * GB, upload_bytes=5 * GB
    )
    simulator.knob("POST", "faults", {"rules": [TRAFFIC_DOWN]})

    [charge] = usage_charges_issue()

    mark = (
        f" (from the reading of {year}-{month:02d}-{last_day(year, month)} 23:00 UTC; "
        "the panel could not be reached)"
    )
    lines = [(line.description, line.amount) for line in charge.invoice.lines.all()]
    assert lines == [
        (
            f"Traffic {month_title(year, month)}, service #{service.pk}: 25 GB downloaded, "
            f"1 GB included, 24 GB billable at 0.50 EUR/GB{mark}",
            Decimal("12.00"),
        ),
        (
            f"Traffic {month_title(year, month)}, service #{service.pk}: 5 GB uploaded, "
            f"0 GB included, 5 GB billable at 0.20 EUR/GB{mark}",
            Decimal("1.00"),
        ),
    ]
    assert charge.from_snapshot


def test_no_reading_and_the_panel_down_waits_for_the_next_run(metered, simulator, caplog):
    subscription = metered()
    simulator.knob("POST", "faults", {"rules": [TRAFFIC_DOWN]})

    with caplog.at_level(logging.WARNING, logger="portal.billing.services.usage"):
        assert usage_charges_issue() == []

    assert "no reading is stored; the next run tries again" in caplog.text
    assert not UsageCharge.objects.exists()

    simulator.knob("POST", "reset")
    [charge] = usage_charges_issue()
    assert charge.subscription == subscription
    assert charge.invoice is not None
    assert not charge.from_snapshot


def test_the_daily_run_twice_bills_the_month_once_and_credit_pays_it(metered, customer):
    subscription = metered()
    CreditEntry.objects.create(customer=customer, amount=Decimal("1.00"), reason="gift")

    assert issue_usage_charges() == 1
    assert issue_usage_charges() == 0
    year, month = last_month()
    assert usage_charge_issue(subscription_id=subscription.pk, year=year, month=month) is None

    [charge] = UsageCharge.objects.all()
    assert charge.invoice.amount_paid == Decimal("1.00")
    assert BillingEvent.objects.filter(action="usage_billed", invoice=charge.invoice).count() == 1
    assert customer.invoices.filter(source_key__startswith="usage:").count() == 1


@pytest.mark.services
def test_runs_at_once_bill_each_month_once(metered):
    postgresql_or_skip()
    subscriptions = [
        metered(buyer=CustomerFactory(), name=f"VPN Metered {index}") for index in range(6)
    ]

    runs, errors = at_once([lambda: [c.pk for c in usage_charges_issue()]] * 4)

    assert errors == []
    made = sorted(pk for run in runs for pk in run)
    assert made == sorted(UsageCharge.objects.values_list("pk", flat=True))
    assert UsageCharge.objects.count() == len(subscriptions)
    assert Invoice.objects.filter(source_key__startswith="usage:").count() == len(subscriptions)


def test_no_traffic_or_all_of_it_included_is_no_invoice_but_the_month_is_done(metered):
    subscription = metered(history=False)

    [charge] = usage_charges_issue()

    assert (charge.download_bytes, charge.upload_bytes, charge.amount) == (0, 0, Decimal("0"))
    assert charge.invoice is None
    assert usage_charges_issue() == []
    assert not subscription.customer.invoices.filter(source_key__startswith="usage:").exists()


def test_included_gb_come_off_each_month(metered):
    subscription = metered()
    UsagePricing.objects.update(
        included_gb_download=Decimal("1000000"), included_gb_upload=Decimal("1000000")
    )

    [charge] = usage_charges_issue()

    assert charge.invoice is None
    assert charge.amount == 0
    assert charge.download_bytes > 0
    assert subscription.usage_charges.count() == 1


def test_a_terminated_service_has_its_last_month_billed_from_its_last_reading(metered):
    subscription = metered()
    service = subscription.service
    year, month = last_month()
    with in_month(year, month, 20):
        service_usage_refresh(service_id=service.pk)
        UsageSnapshot.objects.filter(service=service).update(
            download_bytes=12 * GB, upload_bytes=GB
        )
        type(service).objects.filter(pk=service.pk).update(
            status=ServiceStatus.TERMINATED, terminated_at=timezone.now()
        )

    [charge] = usage_charges_issue()

    [download, upload] = charge.invoice.lines.all()
    assert download.amount == Decimal("5.50")
    assert upload.amount == Decimal("0.20")
    assert download.description.endswith(
        f"(from the reading of {year}-{month:02d}-20 12:00 UTC; the last before the service ended)"
    )
    assert usage_charges_issue() == []


def test_a_service_moved_from_a_flat_plan_is_billed_from_the_month_of_the_move(
    metered, product_for
):
    subscription = metered(history=False)
    Subscription.objects.filter(pk=subscription.pk).update(  # ordered in March, flat then
        created_at=datetime(2020, 3, 1, tzinfo=UTC)
    )
    PlanChange.objects.create(
        subscription=subscription, from_product=product_for(name="VPN 100"),
        from_price=Decimal("9.99"), to_product=subscription.service.product,
        to_price=Decimal("5.00"), description="VPN Metered (monthly)",
        period_start=date(2020, 4, 1), period_end=date(2020, 5, 1), days_left=10,
        days_in_period=30, credit=Decimal("0"), charge=Decimal("0"),
        status=PlanChangeStatus.APPLIED, applied_at=datetime(2020, 4, 20, tzinfo=UTC),
    )  # fmt: skip
    subscription.refresh_from_db()

    months = months_to_bill(subscription, now=datetime(2020, 7, 2, tzinfo=UTC))

    assert months == [(2020, 4), (2020, 5), (2020, 6)]  # not March: flat then


def test_the_traffic_card_shows_the_figures_the_invoice_then_bills(metered, signed_in):
    subscription = metered()
    service = subscription.service
    year, month = last_month()
    page = reverse("client_area:service_traffic", args=[service.pk])
    with in_month(year, month, last_day(year, month), hour=23):
        service_usage_refresh(service_id=service.pk)
        during = signed_in.get(page).content.decode()

    [charge] = usage_charges_issue()

    invoice = charge.invoice
    for line in invoice.lines.all():
        used, included, billable = re.findall(r"([0-9.]+) GB", line.description)
        label = "Downloaded" if "downloaded" in line.description else "Uploaded"
        assert (
            f'<td data-label="Traffic">{label}</td><td data-label="Used">{used} GB</td>'
            f'<td data-label="Included">{included} GB</td>'
            f'<td data-label="Billable">{billable} GB</td>'
        ) in during
        assert f'<td data-label="Amount">{line.amount:.2f} EUR</td>' in during
    assert f'id="usage-total-so-far">{invoice.subtotal:.2f} EUR<' in during
    assert f"{month_title(year, month)} so far" in during

    after = signed_in.get(page).content.decode()
    invoice_url = reverse("billing:invoice_detail", args=[invoice.pk])
    assert f"Last month billed: {month_title(year, month)}" in after
    assert f'{invoice.subtotal:.2f} EUR before tax — <a href="{invoice_url}">' in after


def test_an_unmetered_service_has_no_usage_card(signed_in, service_factory):
    service = service_factory(status=ServiceStatus.ACTIVE)

    page = signed_in.get(reverse("client_area:service_traffic", args=[service.pk]))

    assert 'id="usage-charges"' not in page.content.decode()


def test_staff_set_a_products_usage_pricing_in_the_admin(admin_client, product_for):
    metered_product = product_for(name="VPN Metered", metric_download=True)
    flat = product_for(name="VPN Flat")
    add = reverse("admin:billing_usagepricing_add")
    form = {
        "price_per_gb_download": "0.50", "included_gb_download": "100",
        "price_per_gb_upload": "0", "included_gb_upload": "0", "starts_on": "2027-01-01",
    }  # fmt: skip

    negative = admin_client.post(
        add, {**form, "product": metered_product.pk, "price_per_gb_download": "-1"}
    )
    unmetered = admin_client.post(add, {**form, "product": flat.pk})
    saved = admin_client.post(add, {**form, "product": metered_product.pk})

    assert negative.status_code == unmetered.status_code == 200  # the form again, with errors
    assert "traffic is not counted" in unmetered.content.decode()
    assert saved.status_code == 302
    pricing = UsagePricing.objects.get()
    assert (pricing.product, pricing.price_per_gb_download, pricing.included_gb_download) == (
        metered_product, Decimal("0.50"), Decimal("100"),
    )  # fmt: skip
    listing = admin_client.get(reverse("admin:billing_usagepricing_changelist"))
    assert "0.50 EUR" in listing.content.decode()
