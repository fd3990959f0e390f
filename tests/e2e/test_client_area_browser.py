"""The customer's way through the client area in a real browser."""

import pytest
from django.contrib.auth import get_user_model

from portal.accounts.models import Customer
from provisioning.models import Product, ServerGroup, Service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending_service() -> Service:
    user = get_user_model().objects.create_user("carol", "carol@example.com", "pw-carol-123")
    customer = Customer.objects.create(user=user)
    group = ServerGroup.objects.create(name="Europe")
    product = Product.objects.create(
        name="VPN 100", group=group, settings={"download_mbps": 100, "upload_mbps": 50}
    )
    return Service.objects.create(
        customer=customer, product=product, status="pending", remote_name="carol-vpn"
    )


def test_setup_progress_turns_into_the_active_page_without_a_manual_reload(
    browser_page, pending_service
):
    page = browser_page
    page.goto("/services/")
    assert page.url.endswith("/accounts/login/?next=/services/")

    page.fill("#id_username", "carol")
    page.fill("#id_password", "pw-carol-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/services/")
    page.get_by_text("carol-vpn").wait_for()

    page.click("text=VPN 100")
    page.wait_for_url(f"**/services/{pending_service.pk}/")
    progress = page.locator("#setup-progress")
    progress.wait_for()
    assert "Waiting to be set up" in progress.inner_text()

    Service.objects.filter(pk=pending_service.pk).update(status="provisioning")
    page.locator("#setup-progress [data-role=label]", has_text="Being set up").wait_for()

    Service.objects.filter(pk=pending_service.pk).update(status="active")
    page.locator(".service-header .pill", has_text="Active").wait_for()
    assert page.locator("#setup-progress").count() == 0
    assert "Active" in page.locator(".service-header .pill").inner_text()
    assert page.url.endswith(f"/services/{pending_service.pk}/")
    assert page.js_errors == []
