"""``make run`` seeds a valid licence: a demo issuer under var/ (never in the repository), a key
it signed for each demo product, and rundemo trusting it and acting as its licence server.
tests/portal/test_rundemo.py runs the loop end to end."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from licensing.status import licence_status_row
from licensing.tokens import licence_verify, public_keys_from_pem
from portal.core import clock
from portal.demo.config import DemoConfig, demo_config_path
from portal.demo.licences import demo_issuer_path
from portal.demo.management.commands.rundemo import _licensing_env
from provisioning.models import Product
from provisioning.tasks import check_licences

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]


@pytest.fixture
def fresh_demo():
    def remove() -> None:
        demo_config_path().unlink(missing_ok=True)
        demo_issuer_path().unlink(missing_ok=True)

    remove()
    yield
    remove()


def seed() -> DemoConfig:
    call_command("seed_demo", "--first-panel-port=9100", stdout=None)
    return DemoConfig.load()


@pytest.mark.usefixtures("fresh_demo")
def test_the_demo_products_get_keys_of_a_demo_issuer_kept_under_var(
    sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        config = seed()

    private = demo_issuer_path()
    assert private.is_relative_to(Path(settings.VAR_DIR))
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert "PRIVATE" not in config.licence_public_key
    public_keys = public_keys_from_pem(config.licence_public_key)
    products = list(Product.objects.order_by("pk"))
    assert len(products) == 2
    for product in products:
        claims = licence_verify(product.license_key, public_keys, now=clock.now())
        assert claims.covers(product.pk)
    assert sent_tasks.named("provisioning.check_licences") != []


@pytest.mark.usefixtures("fresh_demo")
def test_seeding_again_keeps_the_issuer_and_the_keys(
    sent_tasks, django_capture_on_commit_callbacks
):
    config = seed()
    keys = list(Product.objects.order_by("pk").values_list("license_key", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        again = seed()

    assert again.licence_public_key == config.licence_public_key
    assert list(Product.objects.order_by("pk").values_list("license_key", flat=True)) == keys
    assert sent_tasks.named("provisioning.check_licences") == []


@pytest.mark.usefixtures("fresh_demo")
def test_with_rundemo_settings_the_first_check_shows_success(settings, sent_tasks):
    config = seed()
    settings.LICENSING_PUBLIC_KEYS = config.licence_public_key
    settings.LICENSING_SERVER_URL = ""  # the demo's web server is not running here: offline

    assert check_licences() == 2

    for product in Product.objects.all():
        assert licence_status_row(product.pk, product.license_key).startswith("success: ")


def test_rundemo_trusts_the_demo_issuer_and_asks_its_own_web_server(monkeypatch):
    monkeypatch.delenv("LICENSING_PUBLIC_KEYS", raising=False)
    monkeypatch.delenv("LICENSING_SERVER_URL", raising=False)
    config = DemoConfig("admin", "pw", "customer", "pw", "Demo", licence_public_key="PEM")

    assert _licensing_env(config, "0.0.0.0", 8000) == {  # noqa: S104
        "LICENSING_PUBLIC_KEYS": "PEM",
        "LICENSING_SERVER_URL": "http://127.0.0.1:8000/licensing/verify/",
    }
    monkeypatch.setenv("LICENSING_SERVER_URL", "https://licences.example.com/licensing/verify/")
    assert _licensing_env(config, "127.0.0.1", 8000)["LICENSING_SERVER_URL"] == (
        "https://licences.example.com/licensing/verify/"
    )
