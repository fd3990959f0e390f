"""The licence seam: a recorded check is what the product page's status row and the service
page's errorbox show, for as long as the check said it holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from licensing.status import (
    NOT_CHECKED,
    RECHECKING,
    cache_key,
    last_licence_check,
    licence_error,
    licence_status_row,
    record_licence_check,
)
from provisioning.licences import NO_KEY_STATUS
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

KEY = "VPNL1.a-key"


@pytest.fixture
def product(db):
    product = ProductFactory(name="Licensed")
    yield product
    cache.delete(cache_key(product.pk))


def test_nothing_recorded_reads_as_not_checked_and_no_error(product):
    assert last_licence_check(product.pk, KEY) is None
    assert licence_error(product.pk, KEY) == ""
    assert licence_status_row(product.pk, KEY) == NOT_CHECKED


def test_a_failed_check_is_the_error_and_a_later_success_replaces_it(product):
    record_licence_check(
        product.pk, key=KEY, error="  Licence expired on 2026-10-01.  ", valid_for=60
    )

    assert licence_error(product.pk, KEY) == "Licence expired on 2026-10-01."
    assert licence_status_row(product.pk, KEY) == "Licence expired on 2026-10-01."

    with time_machine.travel(datetime(2026, 11, 23, 9, 30, tzinfo=UTC), tick=False):
        record_licence_check(product.pk, key=KEY, valid_for=60)

        assert licence_error(product.pk, KEY) == ""
        assert licence_status_row(product.pk, KEY) == "success: 2026-11-23 09:30"


def test_a_result_holds_for_its_period_and_is_kept_until_replaced(product):
    with mock.patch.object(cache, "set", wraps=cache.set) as cache_set:
        check = record_licence_check(product.pk, key=KEY, error="Licence expired.", valid_for=3600)

    assert check.valid_until - check.checked_at == timedelta(seconds=3600)
    assert cache_set.call_args.args[2] is None
    with pytest.raises(ValueError, match="at least a second"):
        record_licence_check(product.pk, key=KEY, valid_for=0)


def test_a_result_past_its_period_still_reads_and_says_it_is_being_checked_again(product):
    record_licence_check(product.pk, key=KEY, error="Licence revoked.", valid_for=60)

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        check = last_licence_check(product.pk, KEY)
        assert check is not None
        assert check.stale
        assert licence_error(product.pk, KEY) == "Licence revoked."
        assert licence_status_row(product.pk, KEY) == f"Licence revoked. {RECHECKING}"


def test_an_entry_in_the_old_shape_reads_as_no_result(product):
    cache.set(cache_key(product.pk), {"checked_at": timezone.now(), "error": "Old."}, 60)

    assert last_licence_check(product.pk, KEY) is None


def test_product_page_shows_the_status_row(admin_client, product):
    url = reverse("admin:provisioning_product_change", args=[product.pk])
    assert NO_KEY_STATUS in admin_client.get(url).content.decode()
    product.license_key = KEY
    product.save()
    assert NOT_CHECKED in admin_client.get(url).content.decode()

    record_licence_check(product.pk, key=KEY, error="Key <i>revoked</i>.", valid_for=60)
    page = admin_client.get(url).content.decode()

    assert "Key &lt;i&gt;revoked&lt;/i&gt;." in page
    assert "licence status" in page.lower()


def test_add_page_has_no_status_row(admin_client):
    page = admin_client.get(reverse("admin:provisioning_product_add")).content.decode()

    assert NOT_CHECKED not in page


def test_a_result_of_another_key_reads_as_no_result(product):
    record_licence_check(product.pk, key="VPNL1.the-old-key", error="Revoked.", valid_for=600)

    assert last_licence_check(product.pk, KEY) is None
    assert licence_error(product.pk, KEY) == ""
    assert licence_status_row(product.pk, KEY) == NOT_CHECKED
    assert licence_error(product.pk, "VPNL1.the-old-key") == "Revoked."
