"""Rows for the dashboard's tests, made as the apps make them (billing's services, factories)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from portal.billing.models import Subscription
from portal.billing.services import LineSpec, invoice_create
from provisioning.models import CallOutcome, Service, ServiceStatus
from tests.billing.helpers import pay
from tests.factories import (
    CustomerFactory,
    ModuleLogEntryFactory,
    OrderFactory,
    ProductFactory,
    ReconciliationFindingFactory,
    ServerFactory,
    ServiceFactory,
)


def invoice_of(customer, amount: str, **kwargs):
    """An unpaid invoice of one line without a product, of ``amount`` net."""
    line = LineSpec(description="Services", unit_price=Decimal(amount))
    return invoice_create(customer=customer, lines=[line], actor=None, **kwargs)


def subscribe(customer, product, cycle: str, price: str, *, status=ServiceStatus.ACTIVE):
    """A service of ``product`` ordered and paid at ``price`` per ``cycle`` (its service
    queued for the worker on commit), then put in ``status`` (no panel)."""
    line = LineSpec(
        description=f"VPN ({cycle})", unit_price=Decimal(price), product=product, cycle=cycle
    )
    invoice = invoice_create(customer=customer, lines=[line], actor=None)
    pay(invoice, f"bank-{invoice.pk}")
    subscription = Subscription.objects.get(ordered_on__invoice=invoice)
    Service.objects.filter(pk=subscription.service_id).update(status=status, pending_action="")
    return subscription


def seed(*, panels: int, services: int) -> None:
    """``panels`` panels (50 slots each) with ``services`` services spread over them (active,
    suspended, failed in turn) and a logged call each, in the last hours (every fourth one
    failed); an order, a quarterly subscription paid this month (27.00), an invoice overdue
    by three days (20.00), and an open reconciliation finding."""
    servers = [ServerFactory(max_accounts=50) for _ in range(panels)]
    for n in range(services):
        server = servers[n % panels]
        ServiceFactory(server=server, status=["active", "suspended", "failed"][n % 3])
        ModuleLogEntryFactory(
            server=server,
            created_at=timezone.now() - timedelta(hours=n % 24),
            duration_ms=100 + n,
            outcome=CallOutcome.ERROR if n % 4 == 0 else CallOutcome.OK,
        )
    customer = CustomerFactory()
    OrderFactory(customer=customer)
    subscribe(customer, ProductFactory(), "quarterly", "27.00")
    invoice_of(customer, "20.00", due_at=timezone.now() - timedelta(days=3))
    ReconciliationFindingFactory(server=servers[0])
