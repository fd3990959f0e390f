"""The admin's side of licensing: a banner on every admin page while a product's licence check
fails (each product a link to its page, at a fixed query cost), and a new key checked at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import reverse

from licensing.status import last_licence_check, record_licence_check
from portal.accounts.roles import BILLING, SUPPORT
from provisioning.templatetags import licence_alerts
from tests.factories import ProductFactory, StaffFactory
from tests.provisioning.admin.html_forms import form_data
from tests.queries import page_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("licensing")]

BANNER = 'id="licence-alert"'


def keyed(name: str, *, error: str | None = None):
    """A product with a licence key, and the result of its last check when ``error`` is given
    ("" for success)."""
    product = ProductFactory(name=name, license_key=f"VPNL1.key-of-{name}")
    if error is not None:
        record_licence_check(product.pk, key=product.license_key, error=error, valid_for=600)
    return product


def product_url(product) -> str:
    return reverse("admin:provisioning_product_change", args=[product.pk])


def test_the_banner_lists_each_failing_product_with_a_link_to_it(admin_client):
    keyed("Fine", error="")
    revoked = keyed("Revoked", error="The licence was <b>revoked</b>.")
    expired = keyed("Expired", error="The licence expired on 2026-01-01.")

    page = admin_client.get(reverse("admin:index")).text

    assert BANNER in page
    assert "Licence check failed</strong> for 2 products" in page
    assert f'<a href="{product_url(expired)}">Expired</a>: The licence expired on 2026-01-01.' in (
        page
    )
    assert f'<a href="{product_url(revoked)}">Revoked</a>: ' in page
    assert "The licence was &lt;b&gt;revoked&lt;/b&gt;." in page
    assert ">Fine</a>" not in page


def test_the_banner_is_on_other_admin_pages_too(admin_client):
    keyed("Revoked", error="The licence was revoked.")

    page = admin_client.get(reverse("admin:provisioning_service_changelist")).text

    assert BANNER in page


def test_no_banner_while_every_check_passes_or_none_failed(admin_client):
    keyed("Fine", error="")
    keyed("Unchecked")
    ProductFactory(name="Keyless")

    assert BANNER not in admin_client.get(reverse("admin:index")).text


def test_a_product_whose_key_was_removed_leaves_the_banner(admin_client):
    product = keyed("Revoked", error="The licence was revoked.")
    product.license_key = ""
    product.save()

    assert BANNER not in admin_client.get(reverse("admin:index")).text


def test_the_sign_in_page_shows_no_banner(client):
    keyed("Revoked", error="The licence was revoked.")

    page = client.get(reverse("admin:login")).text

    assert BANNER not in page
    assert "Revoked" not in page


def test_the_banner_costs_no_query_while_all_pass_and_one_for_any_number_failing(admin_client):
    url = reverse("admin:provisioning_server_changelist")
    keyed("Fine", error="")
    all_pass = page_queries(admin_client, url)
    keyed("Revoked 1", error="Revoked.")
    one_failing = page_queries(admin_client, url)
    for number in range(2, 6):
        keyed(f"Revoked {number}", error="Revoked.")
    five_failing = page_queries(admin_client, url)

    assert one_failing == all_pass + 1
    assert five_failing == one_failing


def test_saving_another_key_forgets_the_old_result_and_checks_the_new_one(
    admin_client, sent_tasks, django_capture_on_commit_callbacks
):
    product = keyed("Licensed", error="The licence was revoked.")
    data = form_data(admin_client.get(product_url(product)).text, "product_form")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(product_url(product), {**data, "license_key": "VPNL1.new"})

    assert response.status_code == 302
    assert last_licence_check(product.pk, "VPNL1.new") is None
    assert sent_tasks.named("provisioning.check_licences") == [()]


def test_saving_the_form_without_a_new_key_keeps_the_result(
    admin_client, sent_tasks, django_capture_on_commit_callbacks
):
    product = keyed("Licensed", error="The licence was revoked.")
    data = form_data(admin_client.get(product_url(product)).text, "product_form")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(product_url(product), data)

    assert last_licence_check(product.pk, product.license_key).error == "The licence was revoked."
    assert sent_tasks.named("provisioning.check_licences") == []


@contextmanager
def cache_down() -> Iterator[None]:
    """The cache pointed at a local port nothing listens on, as when Redis is down."""
    dead_redis = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with override_settings(CACHES=dead_redis):
        yield


def render_banner(user) -> str:
    """The banner tag alone, as the admin's base renders it for ``user``."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return Template("{% load licence_alerts %}{% licence_alert %}").render(
        Context({"request": request})
    )


def test_while_the_cache_is_down_the_banner_renders_nothing_and_is_logged_once(
    staff, caplog, monkeypatch
):
    """Not the whole page: the branding read from the cache fails too while Redis is down."""
    keyed("Revoked", error="The licence was revoked.")
    assert BANNER in render_banner(staff)
    monkeypatch.setattr(licence_alerts, "_last_unreachable_log", float("-inf"))

    with cache_down():
        first, second = render_banner(staff), render_banner(staff)

    assert (first.strip(), second.strip()) == ("", "")
    assert caplog.text.count("Licence banner left out: the cache cannot be read") == 1


@pytest.mark.parametrize(("role", "sees_banner"), [(BILLING, True), (SUPPORT, False)])
def test_the_banner_shows_only_to_staff_who_may_see_products(client, role, sees_banner):
    keyed("Revoked", error="The licence was revoked.")
    user = StaffFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)

    page = client.get(reverse("admin:index"))

    assert page.status_code == 200
    assert (BANNER in page.text) is sees_banner
    assert ("The licence was revoked." in page.text) is sees_banner
