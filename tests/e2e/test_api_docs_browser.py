"""Swagger UI at /api/docs/ loads its vendored files and the schema under the site's strict CSP."""

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_every_customer_operation_with_no_csp_violation(
    browser_page, customer_factory
):
    page = browser_page
    customer_factory("erin")
    log_in(page, "erin")

    page.goto("/api/docs/")

    page.locator(".swagger-ui .info .title").filter(has_text="VPN Portal API").wait_for()
    page.locator(".opblock-summary-path", has_text="/api/v1/services/{id}/vpn-client/").wait_for()
    assert page.locator(".opblock").count() >= 8
    assert page.js_errors == []
