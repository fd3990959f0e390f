from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.accounts.models import Customer
from portal.demo.config import DemoConfig, load_or_create_demo_config
from provisioning import services
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
            services.service_create(
                customer=customer,
                product=products[0],
                actor=None,
                reason="demo data",
                idempotency_key="demo:first-service",
            )
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
