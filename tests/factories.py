"""Factories for the rows tests need (factory-boy), and the one way a test orders a service.

A row built by a factory is a test's *given* (a service already active on a panel, a parked
action); a service the test wants provisioned goes through :func:`order_service`, the lifecycle
API billing uses, so it is queued exactly as in production.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.utils import timezone

from portal.accounts.models import Customer
from portal.billing.cycles import BillingCycle
from portal.billing.services import LineSpec, invoice_create
from portal.notifications import payload
from portal.notifications.models import EmailRecord
from portal.store.models import (
    Coupon,
    CouponKind,
    CouponScope,
    Order,
    OrderItem,
    Plan,
    PlanPrice,
)
from provisioning import services
from provisioning.models import (
    CallOutcome,
    FindingKind,
    ModuleLogEntry,
    Product,
    ReconciliationFinding,
    Server,
    ServerGroup,
    Service,
    ServiceStatus,
)

TEST_PASSWORD = "pw-Test-12345"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(user, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            user.save()


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)


class ServerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServerGroup
        django_get_or_create = ("name",)

    name = "Europe"


class ServerFactory(factory.django.DjangoModelFactory):
    """A panel record; by default at an address nothing listens on (port 9, discard)."""

    class Meta:
        model = Server

    name = factory.Sequence(lambda n: f"panel-{n}")
    group = factory.SubFactory(ServerGroupFactory)
    hostname = "127.0.0.1"
    port = 9
    secure = False
    api_token = factory.Sequence(lambda n: f"test-token-{n:08d}-unused")

    @classmethod
    def for_simulator(cls, simulator: Any, **fields: Any) -> Server:
        """A record of a running simulator's panel."""
        port = int(simulator.url.rsplit(":", 1)[1])
        defaults = {"name": f"panel-{port}", "port": port, "api_token": simulator.token}
        return cls(**{**defaults, **fields})


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"VPN plan {n}")
    group = factory.SubFactory(ServerGroupFactory)
    settings = factory.LazyFunction(dict)


class ServiceFactory(factory.django.DjangoModelFactory):
    """A service row in the state the test gives it (nothing is queued, no panel is called)."""

    class Meta:
        model = Service

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    status = ServiceStatus.PENDING

    class Params:
        on_panel = factory.Trait(
            status=ServiceStatus.ACTIVE,
            server=factory.SubFactory(ServerFactory),
            remote_name=factory.Sequence(lambda n: f"vpn-test-{n}"),
            create_posted_at=factory.LazyFunction(timezone.now),
            activated_at=factory.LazyFunction(timezone.now),
        )


class ModuleLogEntryFactory(factory.django.DjangoModelFactory):
    """One logged panel call: by default a successful ``GET system/status`` of no server."""

    class Meta:
        model = ModuleLogEntry

    action = "create"
    method = "GET"
    path = "system/status"
    outcome = CallOutcome.OK


class ReconciliationFindingFactory(factory.django.DjangoModelFactory):
    """An open finding of a reconciliation run: by default an orphan client on a new server."""

    class Meta:
        model = ReconciliationFinding

    server = factory.SubFactory(ServerFactory)
    kind = FindingKind.ORPHAN
    remote_name = factory.Sequence(lambda n: f"vpn-orphan-{n}")


class EmailRecordFactory(factory.django.DjangoModelFactory):
    """A recorded email, queued and due: by default a plain-text note of kind ``other``;
    ``body=`` sets its text (the stored message is built from ``to``, ``subject`` and it)."""

    class Meta:
        model = EmailRecord

    class Params:
        body = "Hello from the portal."

    to = factory.Sequence(lambda n: f"customer{n}@example.com")
    subject = "A note from the portal"
    kind = payload.OTHER_KIND
    message = factory.LazyAttribute(
        lambda record: payload.pack(EmailMessage(record.subject, record.body, to=[record.to]))
    )


class PlanFactory(factory.django.DjangoModelFactory):
    """A product on sale in the shop."""

    class Meta:
        model = Plan

    product = factory.SubFactory(ProductFactory)
    slug = factory.Sequence(lambda n: f"plan-{n}")
    description = "A fast VPN."


class PlanPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanPrice

    plan = factory.SubFactory(PlanFactory)
    cycle = BillingCycle.MONTHLY
    price = Decimal("9.99")
    setup_fee = Decimal("0")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = CouponKind.PERCENT
    value = Decimal("10")
    scope = CouponScope.FIRST_PAYMENT


class OrderFactory(factory.django.DjangoModelFactory):
    """A placed order and its unpaid invoice of one line without a product (``total``, net):
    for tests that count orders rather than place them (placing one asks the panels)."""

    class Meta:
        model = Order

    class Params:
        total = Decimal("9.99")

    customer = factory.SubFactory(CustomerFactory)
    invoice = factory.LazyAttribute(
        lambda order: invoice_create(
            customer=order.customer,
            lines=[LineSpec(description="VPN 100 (monthly)", unit_price=order.total)],
            actor=None,
        )
    )


class OrderItemFactory(factory.django.DjangoModelFactory):
    """One item of an order (a plan on a cycle), as the checkout records it."""

    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    plan = factory.SubFactory(PlanFactory)
    cycle = BillingCycle.MONTHLY
    price = Decimal("9.99")


def order_service(customer: Customer, product: Product, **kwargs: Any) -> Service:
    """Order a service as billing does (``service_create``): queued for the worker on commit."""
    kwargs.setdefault("actor", None)
    kwargs.setdefault("reason", "ordered in a test")
    kwargs.setdefault("idempotency_key", f"test:{uuid.uuid4()}")
    return services.service_create(customer=customer, product=product, **kwargs)
