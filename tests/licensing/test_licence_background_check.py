"""The background check (beat, every five minutes): each product with a key whose result ran out
is checked, the licence server asked once per recheck period; products without a key are left
alone (not enforced)."""

from __future__ import annotations

import json

import pytest
import responses
from django.core.cache import cache

from licensing.checks import licence_check
from licensing.status import (
    FAILING_KEY,
    NOT_CHECKED,
    failing_licence_checks,
    licence_status_row,
    record_licence_check,
)
from portal.celery import app
from provisioning.licences import (
    failing_licences,
    product_licence_key_changed,
    product_licence_refusal,
    product_licence_status,
)
from provisioning.tasks import check_licences
from tests.factories import ProductFactory
from tests.licensing.conftest import SERVER_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("licensing")]


@pytest.fixture
def licence_server():
    """A licence server refusing the keys named in ``refused``, accepting the others."""
    refused: set[str] = set()

    def answer(request):
        body = json.loads(request.body)
        if body["key"] in refused:
            return 200, {}, json.dumps({"valid": False, "reason": "The licence was revoked."})
        return 200, {}, json.dumps({"valid": True, "products": ["*"], "recheck_seconds": 3600})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_callback(responses.POST, SERVER_URL, callback=answer)
        yield mocked, refused


def test_the_beat_schedule_runs_the_licence_check_every_five_minutes():
    entry = app.conf.beat_schedule["provisioning-licence-checks"]

    assert entry["task"] == "provisioning.check_licences"
    assert entry["schedule"] == 300
    assert "provisioning.check_licences" in app.tasks


def test_each_keyed_product_is_checked_and_its_result_shown(licence_server, sign):
    server, refused = licence_server
    good = ProductFactory(name="Good")
    good.license_key = sign(products=(str(good.pk),))
    good.save()
    revoked = ProductFactory(name="Revoked", license_key=sign(licensee="Gone Ltd"))
    refused.add(revoked.license_key)
    keyless = ProductFactory(name="Keyless")

    assert check_licences() == 2

    assert licence_status_row(good.pk, good.license_key).startswith("success: ")
    assert licence_status_row(revoked.pk, revoked.license_key) == "The licence was revoked."
    assert licence_status_row(keyless.pk, keyless.license_key) == NOT_CHECKED
    assert sorted(json.loads(call.request.body)["product"] for call in server.calls) == sorted(
        [good.pk, revoked.pk]
    )
    assert list(failing_licence_checks()) == [revoked.pk]


def test_a_result_that_still_holds_is_not_asked_again(licence_server, sign):
    server, _ = licence_server
    ProductFactory(license_key=sign())
    check_licences()

    assert check_licences() == 0
    assert check_licences() == 0

    assert len(server.calls) == 1


def test_the_round_rebuilds_the_index_of_failing_products(licence_server, sign):
    """A lost update of the index (two checks recording at once) heals on the next round."""
    _, refused = licence_server
    fixed = ProductFactory(license_key=sign())
    broken = ProductFactory(license_key=sign(licensee="Broken"))
    refused.add(broken.license_key)
    record_licence_check(fixed.pk, key=fixed.license_key, error="Expired.", valid_for=60)
    record_licence_check(fixed.pk, key=fixed.license_key, valid_for=60)
    record_licence_check(broken.pk, key=broken.license_key, error="Expired.", valid_for=60)
    # Another process's stale write of the index: it names the fixed product and not the broken.
    cache.set(FAILING_KEY, [fixed.pk], None)
    assert list(failing_licence_checks()) == []

    check_licences()

    assert list(failing_licence_checks()) == [broken.pk]


def test_a_result_of_the_key_the_admin_replaced_says_nothing_of_the_new_key(licence_server, sign):
    """A round that began with the old key records its refusal after the admin saved a new one
    (which dropped the old result): the new key is still unchecked, so it is checked now."""
    server, refused = licence_server
    old_key = sign(licensee="Lapsed Ltd", products=("*",))
    refused.add(old_key)
    product = ProductFactory(license_key=old_key)
    product.license_key = sign(products=("*",))
    product.save()
    product_licence_key_changed(product=product)

    licence_check(product_id=product.pk, key=old_key)

    assert product_licence_status(product) == NOT_CHECKED
    assert product_licence_refusal(product) == ""
    assert failing_licences() == []
    assert check_licences() == 1
    assert json.loads(server.calls[-1].request.body)["key"] == product.license_key
    assert product_licence_status(product).startswith("success: ")


def test_a_product_whose_check_breaks_leaves_the_others_checked_and_the_index_rebuilt(sign, caplog):
    """Whatever breaks one product's check (here the HTTP client itself) is logged; the round
    checks the other products and still rebuilds the banner's index."""
    first, breaking, last, fine = (ProductFactory(license_key=sign(licensee=n)) for n in "ABCD")
    record_licence_check(fine.pk, key=fine.license_key, valid_for=3600)
    cache.set(FAILING_KEY, [fine.pk], None)  # a stale index: only the rebuild drops it

    def answer(request):
        if json.loads(request.body)["product"] == breaking.pk:
            raise RuntimeError("the HTTP client broke")
        return 200, {}, json.dumps({"valid": True, "products": ["*"], "recheck_seconds": 3600})

    with responses.RequestsMock() as server:
        server.add_callback(responses.POST, SERVER_URL, callback=answer)
        assert check_licences() == 2

    assert product_licence_status(first).startswith("success: ")
    assert product_licence_status(last).startswith("success: ")
    assert product_licence_status(breaking) == NOT_CHECKED
    assert cache.get(FAILING_KEY) == []
    assert f"Licence check of product {breaking.pk} broke" in caplog.text
    assert "RuntimeError: the HTTP client broke" in caplog.text
