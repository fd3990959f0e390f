"""My services and the service page: ownership, query counts, escaping, CSP, setup progress."""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import Service
from tests.factories import ServerFactory

pytestmark = pytest.mark.django_db

SERVICE_URLS = [
    "/services/{pk}/",
    "/services/{pk}/status.json",
    "/services/{pk}/traffic/",
    "/services/{pk}/connection.json",
]


@pytest.mark.parametrize("url", SERVICE_URLS)
def test_another_customers_service_is_404(other_client, service_factory, url):
    service = service_factory(status="active")

    assert other_client.get(url.format(pk=service.pk)).status_code == 404


@pytest.mark.parametrize("url", SERVICE_URLS)
def test_a_missing_service_is_404(owner_client, url):
    assert owner_client.get(url.format(pk=999999)).status_code == 404


@pytest.mark.parametrize("url", ["/services/", *SERVICE_URLS])
def test_anonymous_is_sent_to_login(client, service_factory, url):
    service = service_factory(status="active")

    response = client.get(url.format(pk=service.pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_my_services_lists_only_my_own(other_client, service_factory, other_customer):
    mine = service_factory(status="active", remote_name="alice-vpn")
    service_factory(status="active", customer=other_customer, remote_name="mallory-vpn")

    page = other_client.get("/services/").content.decode()

    assert "mallory-vpn" in page
    assert "alice-vpn" not in page
    assert f"/services/{mine.pk}/" not in page


def test_my_services_shows_status_product_and_next_due(owner_client, service_factory):
    service_factory(remote_name="alice-1", status="provisioning")

    page = owner_client.get("/services/").content.decode()

    assert "VPN 100" in page
    assert "alice-1" in page
    assert 'class="pill pill--provisioning">Being set up' in page
    assert "Next due" in page


def test_my_services_queries_do_not_grow_with_services(owner_client, service_factory):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        service_factory(status="active")
    owner_client.get("/services/")  # the shop's branding is cached from here on
    with CaptureQueriesContext(connection) as two:
        owner_client.get("/services/")
    for _ in range(18):
        service_factory(status="active")
    with CaptureQueriesContext(connection) as twenty:
        page = owner_client.get("/services/")

    assert page.content.decode().count("pill--active") == 20
    assert len(two.captured_queries) == len(twenty.captured_queries)


@pytest.mark.parametrize("status", ["pending", "active", "failed", "terminated"])
def test_service_page_makes_a_fixed_number_of_queries(
    owner_client, service_factory, django_assert_num_queries, status
):
    service = service_factory(status=status)
    owner_client.get(f"/services/{service.pk}/")  # the shop's branding is cached from here on

    # session, user, the service with its product/server/customer; for a running service,
    # billing's cancellation card and the store's plan card each ask for its subscription
    with django_assert_num_queries(5 if status == "active" else 3):
        assert owner_client.get(f"/services/{service.pk}/").status_code == 200


def test_panel_strings_are_escaped(owner_client, service_factory, product_for):
    product = product_for(name="<script>alert('p')</script>")
    service = service_factory(
        status="active", product=product, remote_name="<script>alert(1)</script>"
    )

    for url in ("/services/", f"/services/{service.pk}/", f"/services/{service.pk}/traffic/"):
        page = owner_client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert" in page


@pytest.mark.parametrize(
    "url",
    ["/services/", "/services/{pk}/", "/services/{pk}/traffic/", "/accounts/login/"],
)
def test_customer_pages_send_a_strict_csp(owner_client, service_factory, url):
    service = service_factory(status="pending")

    response = owner_client.get(url.format(pk=service.pk))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.parametrize("url", ["/services/", "/services/{pk}/", "/services/{pk}/traffic/"])
def test_pages_carry_no_inline_script(owner_client, service_factory, url):
    import re

    service = service_factory(status="pending")

    page = owner_client.get(url.format(pk=service.pk)).content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+\s*=", page)
    assert " style=" not in page


@pytest.mark.parametrize(
    ("status", "label", "done"),
    [
        ("pending", "Waiting to be set up", False),
        ("provisioning", "Being set up", False),
        ("active", "Active", True),
        ("failed", "Setup failed", True),
    ],
)
def test_status_json(owner_client, service_factory, status, label, done):
    service = service_factory(status=status, last_error="Traceback: panel token abc123")

    response = owner_client.get(f"/services/{service.pk}/status.json")

    assert response.status_code == 200
    assert response.json() == {"status": status, "label": label, "done": done}
    assert "no-store" in response["Cache-Control"]


def test_status_json_refuses_post(owner_client, service_factory):
    service = service_factory(status="active")

    assert owner_client.post(f"/services/{service.pk}/status.json").status_code == 405


def test_setting_up_page_shows_progress_and_loads_the_poller(owner_client, service_factory):
    service = service_factory(status="provisioning")

    page = owner_client.get(f"/services/{service.pk}/").content.decode()

    assert 'id="setup-progress"' in page
    assert f'data-status-url="/services/{service.pk}/status.json"' in page
    assert "/static/portal/service_status.js" in page
    assert 'id="connection-status"' not in page


def test_active_page_has_the_connection_block_and_no_poller(owner_client, service_factory):
    service = service_factory(status="active", server=ServerFactory(), remote_name="vpn-x")

    page = owner_client.get(f"/services/{service.pk}/").content.decode()

    assert 'id="setup-progress"' not in page
    assert "service_status.js" not in page
    assert f'data-url="/services/{service.pk}/connection.json"' in page


def test_an_active_service_without_a_client_gets_no_live_blocks(owner_client, service_factory):
    service = service_factory(status="active")

    page = owner_client.get(f"/services/{service.pk}/").content.decode()

    assert "connection.json" not in page


def test_failed_page_says_so_and_leaks_nothing(owner_client, service_factory):
    service = service_factory(
        status="failed", last_error="Traceback (most recent call last): token=s3cr3t"
    )

    page = owner_client.get(f"/services/{service.pk}/").content.decode()

    assert "Setup failed" in page
    assert "staff have been told" in page
    assert "Traceback" not in page
    assert "s3cr3t" not in page
    assert 'id="connection-status"' not in page


def test_terminated_service_is_listed_but_has_no_live_blocks(owner_client, service_factory):
    service = service_factory(status="terminated", remote_name="alice-old")

    listing = owner_client.get("/services/").content.decode()
    page = owner_client.get(f"/services/{service.pk}/").content.decode()
    traffic = owner_client.get(f"/services/{service.pk}/traffic/").content.decode()

    assert "alice-old" in listing
    assert "Service terminated" in page
    assert 'id="connection-status"' not in page
    assert 'id="setup-progress"' not in page
    assert 'name="year"' not in traffic


def test_user_manual_button_only_with_an_instruction_url(
    owner_client, service_factory, product_for
):
    with_link = service_factory(
        status="active",
        product=product_for(name="VPN docs", instruction_url="https://docs.example/vpn"),
    )
    without = service_factory(status="active")

    page = owner_client.get(f"/services/{with_link.pk}/").content.decode()
    plain = owner_client.get(f"/services/{without.pk}/").content.decode()

    assert (
        '<a class="button button--primary" href="https://docs.example/vpn" target="_blank" '
        'rel="noopener noreferrer">User manual</a>' in page
    )
    assert "User manual" not in plain


def test_service_facts_show_plan_bandwidth(owner_client, service_factory):
    service = service_factory(status="active")

    page = owner_client.get(f"/services/{service.pk}/").content.decode()

    assert "100 Mbit/s" in page
    assert "Unlimited" in page


def test_traffic_page_defaults_to_the_current_month(owner_client, provisioned_service):
    service = provisioned_service
    today = timezone.localdate()
    Service.objects.filter(pk=service.pk).update(
        created_at=timezone.now() - timedelta(days=6 * 366)
    )

    page = owner_client.get(f"/services/{service.pk}/traffic/").content.decode()

    assert f'<option value="{today.year}" selected>' in page
    assert f'<option value="{today.year - 3}">' in page
    assert f'<option value="{today.year - 4}">' not in page
    assert f'<option value="{today.month}" selected>' in page
    assert 'aria-current="page">Traffic statistics' in page


def test_traffic_page_offers_no_year_before_the_service_was_created(
    owner_client, provisioned_service
):
    service = provisioned_service
    created = timezone.now() - timedelta(days=400)
    Service.objects.filter(pk=service.pk).update(created_at=created)

    page = owner_client.get(f"/services/{service.pk}/traffic/").content.decode()

    assert f'<option value="{created.year}">' in page
    assert f'<option value="{created.year - 1}">' not in page


def test_traffic_page_takes_a_past_month_and_ignores_nonsense(owner_client, provisioned_service):
    service = provisioned_service
    year = timezone.localdate().year - 1
    Service.objects.filter(pk=service.pk).update(
        created_at=timezone.now() - timedelta(days=2 * 366)
    )
    url = f"/services/{service.pk}/traffic/"

    chosen = owner_client.get(url, {"year": year, "month": 2}).content.decode()
    nonsense = owner_client.get(url, {"year": "1999", "month": "x"})

    assert f"February {year}" in chosen
    assert nonsense.status_code == 200


def test_staff_without_a_customer_sees_no_services(admin_client, service_factory):
    service = service_factory(status="active")

    assert admin_client.get("/services/").status_code == 200
    assert admin_client.get(f"/services/{service.pk}/").status_code == 404


def test_customer_without_services(client, customer_factory):
    user = customer_factory("bob").user
    client.force_login(user)

    page = client.get("/services/").content.decode()
    assert 'You have no services yet. <a href="/">See the plans</a>.' in page
    assert not Service.objects.exists()
