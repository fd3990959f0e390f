import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from portal.accounts.models import Customer
from portal.demo.config import DemoConfig, demo_config_path
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
