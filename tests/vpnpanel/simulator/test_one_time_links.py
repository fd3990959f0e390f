import re

import requests

from tests.vpnpanel.simulator.panel_http import create_client, ok, rejected


def test_one_time_link_points_at_the_simulator(simulator):
    create_client(simulator, name="c")

    link = ok(simulator, "POST", "client/c/otl")

    assert re.fullmatch(re.escape(simulator.url) + r"/otl/[0-9a-f]{80}", link)


def test_one_time_link_opens_once_and_names_the_client(simulator):
    create_client(simulator, name="linked")
    link = ok(simulator, "POST", "client/linked/otl")

    page = requests.get(link, timeout=5)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "linked" in page.text


def test_used_one_time_link_answers_gone(simulator):
    create_client(simulator, name="c")
    link = ok(simulator, "POST", "client/c/otl")
    requests.get(link, timeout=5)

    assert requests.get(link, timeout=5).status_code == 410


def test_unknown_one_time_link_is_not_found(simulator):
    assert requests.get(simulator.url + "/otl/" + "ab" * 40, timeout=5).status_code == 404


def test_each_one_time_link_is_distinct(simulator):
    create_client(simulator, name="c")

    assert ok(simulator, "POST", "client/c/otl") != ok(simulator, "POST", "client/c/otl")


def test_one_time_link_for_unknown_client_is_not_found(simulator):
    body = rejected(simulator, "POST", "client/ghost/otl", status=404)

    assert body["message"] == "Account not found"


def test_deleting_the_client_invalidates_its_links(simulator):
    create_client(simulator, name="c")
    link = ok(simulator, "POST", "client/c/otl")
    ok(simulator, "DELETE", "client/c")

    assert requests.get(link, timeout=5).status_code == 404


def test_request_log_masks_one_time_link_tokens(simulator):
    logged_before = simulator.log_path.stat().st_size
    create_client(simulator, name="c")
    link = ok(simulator, "POST", "client/c/otl")
    token = link.rsplit("/", 1)[1]

    assert requests.get(link, timeout=5).status_code == 200
    assert requests.get(link, timeout=5).status_code == 410

    log = simulator.log_path.read_bytes()[logged_before:].decode()
    assert token not in log
    assert log.count('"GET /otl/*** HTTP/1.1"') == 2
