"""Staff's servers: the panel's API token is write-only — taken on create and update, never in
an answer, a history row or a log line — and the admin form's rules hold (a new address needs
the token again)."""

import json
import logging

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

from provisioning.models import Server
from tests.factories import ServerFactory, ServerGroupFactory, ServiceFactory
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
SERVERS = "/api/v1/staff/servers/"
TOKEN = "panel-token-5d1e8c0b7a2f"
NEW_TOKEN = "panel-token-new-93c1e0d7b6"


def everything_said(response, caplog) -> str:
    """The answer, the admin's history and every log line, as one text to search."""
    history = json.dumps(list(LogEntry.objects.values("change_message", "object_repr")))
    return response.content.decode() + history + caplog.text


@pytest.fixture
def server(db) -> Server:
    return ServerFactory(
        name="fra", hostname="vpn-fra.example.com", port=8098, secure=True, api_token=TOKEN
    )


def test_adding_a_server_stores_the_token_and_never_answers_it(staff_api, caplog):
    group = ServerGroupFactory()
    caplog.set_level(logging.DEBUG)

    response = staff_api.post(
        SERVERS,
        {
            "name": "ams",
            "group_id": group.pk,
            "hostname": "vpn-ams.example.com",
            "api_token": TOKEN,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    server = Server.objects.get(name="ams")
    assert server.api_token == TOKEN
    assert (server.group, server.port, server.secure, server.enabled) == (group, None, True, True)
    body = response.json()
    assert body["has_api_token"] is True
    assert "api_token" not in body
    assert TOKEN not in everything_said(response, caplog)
    assert LogEntry.objects.get().action_flag == ADDITION


def test_a_server_without_a_token_is_refused(staff_api):
    response = staff_api.post(
        SERVERS, {"name": "ams", "hostname": "ams.example.com"}, format="json"
    )

    assert response.status_code == 400
    assert "api_token" in response.json()["error"]["fields"]
    assert not Server.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"api_token": "short-token"}, "api_token"),
        ({"api_token": "has a space in it 0123"}, "api_token"),
        ({"hostname": "", "ip_address": None}, "non_field_errors"),
        ({"hostname": "https://vpn.example.com/"}, "hostname"),
        ({"port": 70000}, "port"),
        ({"name": "fra"}, "name"),
        ({"group_id": 999}, "group_id"),
    ],
)
def test_the_admin_forms_rules_refuse_a_bad_server(staff_api, server, caplog, data, field):
    caplog.set_level(logging.DEBUG)
    given = {"name": "ams", "hostname": "ams.example.com", "api_token": NEW_TOKEN, **data}

    response = staff_api.post(SERVERS, given, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert "has a space" not in everything_said(response, caplog)
    assert Server.objects.count() == 1


def test_a_change_without_a_token_keeps_the_stored_one(staff_api, server, caplog):
    caplog.set_level(logging.DEBUG)

    response = staff_api.patch(
        f"{SERVERS}{server.pk}/", {"max_accounts": 40, "enabled": False}, format="json"
    )

    assert response.status_code == 200, response.content
    server.refresh_from_db()
    assert (server.max_accounts, server.enabled, server.api_token) == (40, False, TOKEN)
    entry = LogEntry.objects.get()
    assert entry.action_flag == CHANGE
    assert entry.get_change_message() == "Changed max_accounts and enabled."
    assert TOKEN not in everything_said(response, caplog)


def test_a_new_token_replaces_the_stored_one(staff_api, server, caplog):
    caplog.set_level(logging.DEBUG)

    response = staff_api.patch(f"{SERVERS}{server.pk}/", {"api_token": NEW_TOKEN}, format="json")

    assert response.status_code == 200
    server.refresh_from_db()
    assert server.api_token == NEW_TOKEN
    assert LogEntry.objects.get().get_change_message() == "Changed api_token."
    assert NEW_TOKEN not in everything_said(response, caplog)


@pytest.mark.parametrize(
    "address", [{"hostname": "elsewhere.example.com"}, {"port": 9443}, {"secure": False}]
)
def test_a_new_address_needs_the_token_again(staff_api, server, address):
    response = staff_api.patch(f"{SERVERS}{server.pk}/", address, format="json")

    assert response.status_code == 400
    assert "api_token" in response.json()["error"]["fields"]
    server.refresh_from_db()
    assert (server.hostname, server.port, server.secure) == ("vpn-fra.example.com", 8098, True)

    again = staff_api.patch(
        f"{SERVERS}{server.pk}/", {**address, "api_token": NEW_TOKEN}, format="json"
    )

    assert again.status_code == 200
    server.refresh_from_db()
    assert server.api_token == NEW_TOKEN


def test_the_list_and_detail_never_carry_the_token(staff_api, server, customer, product):
    ServiceFactory(customer=customer, product=product, server=server, status="active")

    listed = staff_api.get(SERVERS)
    one = staff_api.get(f"{SERVERS}{server.pk}/")

    assert listed.json()["results"][0]["live_services"] == 1
    assert one.json()["name"] == "fra"
    for response in (listed, one):
        assert TOKEN not in response.content.decode()
        assert '"api_token"' not in response.content.decode()


def test_the_list_filters_and_costs_the_same_queries_for_one_server_or_many(staff_api, server):
    ServerFactory(enabled=False)
    one = page_queries(staff_api, SERVERS)
    for _ in range(4):
        ServerFactory(group=ServerGroupFactory(name="Asia"))

    assert page_queries(staff_api, SERVERS) == one
    disabled = staff_api.get(SERVERS, {"enabled": "false"}).json()
    assert disabled["count"] == 1
    assert staff_api.get(SERVERS, {"group": server.group_id}).json()["count"] == 2
