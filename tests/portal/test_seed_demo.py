from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from portal.accounts.models import Customer
from portal.billing.models import Invoice, Subscription, TaxRate, UsagePricing
from portal.core.models import Branding
from portal.demo.config import DemoConfig, demo_config_path
from portal.store.models import Plan
from provisioning.models import Product, Server, ServerGroup, Service


@pytest.fixture
def fresh_demo_config():
    demo_config_path().unlink(missing_ok=True)
    yield
    demo_config_path().unlink(missing_ok=True)


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_demo_config")
def test_seed_demo_creates_logins_and_two_panels_in_one_group_and_is_idempotent():
    call_command("seed_demo", "--first-panel-port=9100", stdout=None)
    call_command("seed_demo", stdout=None)

    config = DemoConfig.load()
    admin = authenticate(username=config.admin_username, password=config.admin_password)
    customer_user = authenticate(
        username=config.customer_username, password=config.customer_password
    )
    assert admin is not None
    assert admin.is_superuser
    assert customer_user is not None
    assert not customer_user.is_staff
    assert Customer.objects.filter(user=customer_user).count() == 1
    group = ServerGroup.objects.get()
    servers = list(Server.objects.filter(group=group).order_by("port"))
    assert [s.port for s in servers] == [9100, 9101]
    assert [s.api_token for s in servers] == [p.token for p in config.panels]
    assert all(not s.secure and s.hostname == "127.0.0.1" for s in servers)
    assert all(panel.networks for panel in config.panels)
    ticked = Product.objects.get(name="VPN 100 Mbit/s").typed_settings.deploy_targets
    assert [(t.server_id, t.network) for t in ticked] == [(s.pk, n) for s, n in zip(
        servers, ["fra-main", "ams-main"], strict=True)]  # fmt: skip
    (service,) = Service.objects.filter(customer__user=customer_user)
    assert service.pending_action == "create"
    # ordered and paid like a customer's, once: it renews and can change plan or be cancelled
    (subscription,) = Subscription.objects.filter(service=service)
    assert (subscription.cycle, subscription.recurring_price) == ("monthly", Decimal("4.99"))
    assert Invoice.objects.get(source_key="demo:first-order").status == "paid"
    # The storefront sells both products, every cycle priced once; the seller is set.
    plans = {plan.slug: plan for plan in Plan.objects.select_related("product")}
    assert {slug: plan.product.name for slug, plan in plans.items()} == {
        "vpn-100": "VPN 100 Mbit/s",
        "vpn-unlimited": "VPN Unlimited (metered)",
    }
    assert sorted(plans["vpn-100"].prices.values_list("cycle", flat=True)) == [
        "annual", "monthly", "quarterly", "semiannual"
    ]  # fmt: skip
    assert plans["vpn-unlimited"].prices.count() == 2
    pricing = UsagePricing.objects.get()
    assert (pricing.product.name, pricing.price_per_gb_download, pricing.included_gb_download) == (
        "VPN Unlimited (metered)", Decimal("0.02"), Decimal("100")
    )  # fmt: skip
    branding = Branding.objects.get()
    assert (branding.country, branding.vat_id) == ("DE", "DE136695976")
    assert TaxRate.objects.get().country == "DE"


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_demo_config")
def test_seeding_again_keeps_what_the_admin_changed_in_the_shop():
    call_command("seed_demo", "--first-panel-port=9100", stdout=None)
    Branding.objects.filter(pk=1).update(shop_name="Acme VPN", legal_name="Acme Ltd")
    Plan.objects.filter(slug="vpn-100").update(description="Our best")
    Plan.objects.get(slug="vpn-unlimited").prices.filter(cycle="annual").delete()

    call_command("seed_demo", stdout=None)

    assert Branding.objects.values_list("shop_name", "legal_name").get() == ("Acme VPN", "Acme Ltd")
    assert Plan.objects.get(slug="vpn-100").description == "Our best"
    assert Plan.objects.get(slug="vpn-unlimited").prices.count() == 1
