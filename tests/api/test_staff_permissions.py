"""Who may call the staff endpoints: walked over every staff URL and method.

A *support* user reads services and nothing else of them, and changes nothing; *billing* reads
plans, invoices, payments and services but no servers, and acts on no service; a customer gets
403 everywhere; a revoked token or none at all, 401.
"""

import pytest
from django.contrib.admin.models import LogEntry

from portal.accounts import services as accounts
from portal.accounts.models import ApiToken
from portal.accounts.roles import BILLING, SUPPORT
from provisioning.models import Service
from tests.api.staff_helpers import METHODS, STAFF_PREFIX, staff_rows, staff_urls, staff_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    settings.API_THROTTLE_RATES = {"user": "100000/min", "anon": "100000/min"}


@pytest.fixture
def rows(customer, product) -> dict[str, int]:
    return staff_rows(customer, product)


@pytest.fixture
def urls(rows) -> list[str]:
    return staff_urls(rows)


def call(client, method: str, url: str):
    return getattr(client, method)(url, {}, format="json")


def readable(url: str, kinds: set[str]) -> bool:
    """A list or detail URL (not an action) of one of ``kinds``."""
    kind, _, rest = url.removeprefix(STAFF_PREFIX).partition("/")
    return kind in kinds and rest.count("/") <= 1


def test_every_staff_url_is_walked(urls):
    assert len(urls) == 16
    assert len({url.split("/")[4] for url in urls}) == 5


def test_support_reads_services_only_and_changes_nothing(client_for, urls, rows):
    api = client_for(staff_with_role(SUPPORT))
    before = list(Service.objects.values())

    answers = {
        (method, url): call(api, method, url).status_code for url in urls for method in METHODS
    }

    expected = {
        (method, url): 200 if method == "get" and readable(url, {"services"}) else 403
        for url in urls
        for method in METHODS
    }
    assert answers == expected
    assert list(Service.objects.values()) == before
    assert not LogEntry.objects.exists()


def test_billing_reads_money_and_plans_but_no_servers_and_acts_on_no_service(client_for, urls):
    api = client_for(staff_with_role(BILLING))
    money_and_services = {"plans", "invoices", "payments", "services"}

    reads = {
        url: call(api, "get", url).status_code
        for url in urls
        if readable(url, {*money_and_services, "servers"})
    }
    service_writes = {
        (method, url): call(api, method, url).status_code
        for url in urls
        if url.startswith(f"{STAFF_PREFIX}services/") or url.startswith(f"{STAFF_PREFIX}servers/")
        for method in ("post", "put", "patch", "delete")
    }

    assert reads == {url: 200 if readable(url, money_and_services) else 403 for url in reads}
    assert set(service_writes.values()) == {403}


def test_a_customer_gets_403_on_every_staff_url(owner_api, urls):
    answers = {
        (method, url): call(owner_api, method, url).status_code
        for url in urls
        for method in METHODS
    }

    assert set(answers.values()) == {403}


def test_a_superadmin_reads_every_list_and_detail(staff_api, urls):
    answers = {
        url: staff_api.get(url).status_code
        for url in urls
        if readable(url, {"plans", "servers", "services", "invoices", "payments"})
    }

    assert len(answers) == 10
    assert set(answers.values()) == {200}


def test_a_revoked_token_gets_401_on_staff_urls(token_for, staff, urls):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(staff)}")
    assert api.get(urls[0]).status_code == 200
    accounts.api_token_revoke(token=ApiToken.objects.get(user=staff))

    answers = {call(api, method, url).status_code for url in urls for method in METHODS}

    assert answers == {401}


def test_without_a_token_every_staff_url_is_401(urls):
    from rest_framework.test import APIClient

    answers = {call(APIClient(), method, url).status_code for url in urls for method in METHODS}

    assert answers == {401}
