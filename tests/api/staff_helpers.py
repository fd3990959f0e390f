"""What the staff API's tests share: a staff user of one role, the rows every staff URL can be
asked about, and every staff URL."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Group
from django.urls import URLPattern

from portal import api_staff_urls
from portal.billing.models import Gateway
from portal.billing.services import LineSpec, invoice_create, payment_record
from tests.factories import PlanPriceFactory, ServerFactory, ServiceFactory, StaffFactory

STAFF_PREFIX = "/api/v1/staff/"
METHODS = ("get", "post", "put", "patch", "delete")


def staff_with_role(role: str):
    """Active staff (not a superuser) whose one group is ``role``."""
    user = StaffFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


def unpaid_invoice(customer, product, amount: str = "9.99"):
    line = LineSpec(
        description="VPN 100 (monthly)", unit_price=Decimal(amount), product=product,
        cycle="monthly",
    )  # fmt: skip
    return invoice_create(customer=customer, lines=[line], actor=None)


def staff_rows(customer, product) -> dict[str, int]:
    """One row behind each kind of staff URL, by the name of its ``pk`` route's prefix."""
    invoice = unpaid_invoice(customer, product)
    payment = payment_record(
        invoice=unpaid_invoice(customer, product), amount=Decimal("9.99"),
        gateway=Gateway.BANK_TRANSFER, reference="rows-1", actor=None,
    )  # fmt: skip
    return {
        "plans": PlanPriceFactory().plan_id,
        "servers": ServerFactory().pk,
        "services": ServiceFactory(customer=customer, product=product, on_panel=True).pk,
        "invoices": invoice.pk,
        "payments": payment.pk,
    }


def staff_urls(rows: dict[str, int]) -> list[str]:
    """Every URL of ``portal.api_staff_urls``, its ``<int:pk>`` filled from ``rows``."""
    urls = []
    for pattern in api_staff_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        kind = route.split("/", 1)[0]
        urls.append(STAFF_PREFIX + route.replace("<int:pk>", str(rows[kind])))
    return urls
