"""A shop on the live simulator: a plan on sale for the office network, monthly and annual; the
provisioning tests' client of the simulator (``panel``)."""

from decimal import Decimal

import pytest

from tests.factories import PlanFactory, PlanPriceFactory
from tests.provisioning.conftest import panel  # noqa: F401 - a fixture used here


@pytest.fixture
def shop_plan(simulator, server_for, product_for):
    server = server_for(simulator)
    product = product_for((server, "office"), name="VPN 100", download_mbps=100, upload_mbps=50)
    plan = PlanFactory(product=product, slug="vpn-100")
    PlanPriceFactory(plan=plan, cycle="monthly", price=Decimal("9.99"), setup_fee=Decimal("5.00"))
    PlanPriceFactory(plan=plan, cycle="annual", price=Decimal("99.00"))
    return plan
