from dataclasses import replace
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from licensing.tokens import public_key_pem
from portal.accounts.models import Customer
from portal.billing.cycles import BillingCycle
from portal.billing.models import Gateway, InvoiceStatus, TaxRate, UsagePricing
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.core.models import Branding
from portal.demo.config import DemoConfig, load_or_create_demo_config
from portal.demo.licences import demo_issuer, demo_key_holds, demo_licence_key
from portal.store.models import Plan, PlanPrice
from provisioning.licences import product_licence_key_changed
from provisioning.models import Product, Server, ServerGroup


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin, customer and simulated panels. Idempotent."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--first-panel-port",
            type=int,
            default=8765,
            help="Port of the first simulated panel; the next ones follow (first seed only).",
        )

    def handle(self, *args, **options) -> None:
        config = load_or_create_demo_config(first_panel_port=options["first_panel_port"])
        with transaction.atomic():
            customer = self._seed_users(config)
            group, servers = self._seed_servers(config)
            products = self._seed_products(config, group, servers)
            self._seed_licences(config, products)
            self._seed_store(products)
            self._seed_usage_pricing(products[1])
            self._seed_shop()
            self._seed_first_order(customer, products[0])
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

    def _seed_users(self, config: DemoConfig) -> Customer:
        user_model = get_user_model()
        admin, _ = user_model.objects.get_or_create(
            username=config.admin_username, defaults={"email": "admin@example.com"}
        )
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.set_password(config.admin_password)
        admin.save()
        customer_user, _ = user_model.objects.get_or_create(
            username=config.customer_username,
            defaults={
                "email": "customer@example.com",
                "first_name": "Demo",
                "last_name": "Customer",
            },
        )
        customer_user.set_password(config.customer_password)
        customer_user.save()
        customer, _ = Customer.objects.get_or_create(user=customer_user)
        return customer

    def _seed_servers(self, config: DemoConfig) -> tuple[ServerGroup, list[Server]]:
        group, _ = ServerGroup.objects.get_or_create(name=config.group_name)
        servers = []
        for panel in config.panels:
            server, _ = Server.objects.update_or_create(
                name=panel.name,
                defaults={
                    "group": group,
                    "hostname": "127.0.0.1",
                    "port": panel.port,
                    "secure": False,
                    "api_token": panel.token,
                    "enabled": True,
                },
            )
            servers.append(server)
        return group, servers

    def _seed_products(
        self, config: DemoConfig, group: ServerGroup, servers: list[Server]
    ) -> list[Product]:
        """One plan ticking each panel's first network, one leaving the network to the panel."""
        targets = [
            {"server_id": server.pk, "network": panel.networks[0].split("=", 1)[0]}
            for server, panel in zip(servers, config.panels, strict=True)
        ]
        plans = {
            "VPN 100 Mbit/s": {
                "download_mbps": 100,
                "upload_mbps": 50,
                "deploy_targets": targets,
                "instruction_url": "https://www.wireguard.com/quickstart/",
            },
            "VPN Unlimited (metered)": {"metric_download": True, "metric_upload": True},
        }
        return [
            Product.objects.get_or_create(name=name, defaults={"group": group, "settings": plan})[0]
            for name, plan in plans.items()
        ]

    def _seed_licences(self, config: DemoConfig, products: list[Product]) -> None:
        """A key from the demo issuer for each product (again when it no longer holds): the
        background check then shows ``success: …`` on each product's page."""
        issuer = demo_issuer()
        public_pem = public_key_pem(issuer.public_key())
        if config.licence_public_key != public_pem:
            replace(config, licence_public_key=public_pem).save()
        for product in products:
            if not demo_key_holds(product.license_key, issuer, product.pk):
                product.license_key = demo_licence_key(issuer, product.pk)
                product.save(update_fields=["license_key", "updated_at"])
                product_licence_key_changed(product=product)

    def _seed_store(self, products: list[Product]) -> None:
        """The two products on sale, with a price per cycle (left alone once they exist)."""
        offers = [
            ("vpn-100", "Fast WireGuard, OpenVPN or IKEv2 in Frankfurt or Amsterdam.",
             {"monthly": "4.99", "quarterly": "13.99", "semiannual": "26.99", "annual": "49.99"},
             "0.00"),
            ("vpn-unlimited", "No speed limit; the traffic is metered.",
             {"monthly": "9.99", "annual": "99.00"}, "2.00"),
        ]  # fmt: skip
        for position, (product, (slug, description, prices, setup_fee)) in enumerate(
            zip(products, offers, strict=True), start=1
        ):
            plan, created = Plan.objects.get_or_create(
                product=product,
                defaults={"slug": slug, "description": description, "position": position},
            )
            if created:
                PlanPrice.objects.bulk_create(
                    PlanPrice(plan=plan, cycle=cycle, price=Decimal(price),
                              setup_fee=Decimal(setup_fee))
                    for cycle, price in prices.items()
                )  # fmt: skip

    def _seed_first_order(self, customer: Customer, product: Product) -> None:
        """The demo customer's first service, ordered and paid by bank transfer as a customer's
        would be: it has its billing period, renewals, change of plan and cancellation."""
        price = PlanPrice.objects.get(plan__product=product, cycle=BillingCycle.MONTHLY).price
        invoice = invoice_create(
            customer=customer,
            lines=[
                LineSpec(
                    description=f"{product.plan.name} (monthly)", unit_price=price,
                    product=product, cycle=BillingCycle.MONTHLY, recurring_price=price,
                )
            ],
            actor=None,
            source_key="demo:first-order",
        )  # fmt: skip
        if invoice.status == InvoiceStatus.UNPAID:
            payment_record(
                invoice=invoice, amount=invoice.balance_due, gateway=Gateway.BANK_TRANSFER,
                reference="demo:first-order", actor=None,
            )  # fmt: skip

    def _seed_usage_pricing(self, metered: Product) -> None:
        """The metered plan's traffic: 100 GB down and 20 GB up a month included, then 0.02 EUR
        per GB either way (left alone once it exists)."""
        UsagePricing.objects.get_or_create(
            product=metered,
            defaults={
                "price_per_gb_download": Decimal("0.02"),
                "included_gb_download": Decimal("100"),
                "price_per_gb_upload": Decimal("0.02"),
                "included_gb_upload": Decimal("20"),
            },
        )

    def _seed_shop(self) -> None:
        """The seller on the invoices and German VAT, unless the admin has set them already."""
        branding, _ = Branding.objects.get_or_create(pk=1)
        if not branding.legal_name:
            branding.shop_name = "Demo VPN Shop"
            branding.legal_name = "Demo VPN GmbH"
            branding.address = "Musterstraße 1\n60311 Frankfurt am Main"
            branding.country = "DE"
            branding.vat_id = "DE136695976"
            branding.support_email = "support@example.com"
            branding.save()
        TaxRate.objects.get_or_create(country="DE", defaults={"name": "VAT", "rate": Decimal("19")})
