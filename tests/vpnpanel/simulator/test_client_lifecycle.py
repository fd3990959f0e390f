import requests

from tests.vpnpanel.simulator.panel_http import create_client, ok, rejected

WRONG_NAME = "Wrong name (only letters, numbers and '_', '-')"


def test_create_without_fields_fills_everything_in(simulator):
    client = create_client(simulator)

    assert client["name"] == "client_1"
    assert client["username"] == "user_1"
    assert len(client["password"]) == 12
    assert client["network_name"] == "office"
    assert client["ipv4"] == "10.0.6.2"
    assert client["status"] == "enable"
    assert (client["b_download"], client["b_upload"]) == (0, 0)
    assert set(client) == {
        "name",
        "network_name",
        "ipv4",
        "ipv6",
        "username",
        "password",
        "status",
        "b_download",
        "b_upload",
        "public_key",
    }


def test_create_uses_given_fields(simulator):
    client = create_client(
        simulator, network_name="lab", name="vpn-1-2-abcd", username="alice", password="s3cret!"
    )

    assert (client["name"], client["username"], client["password"]) == (
        "vpn-1-2-abcd",
        "alice",
        "s3cret!",
    )
    assert client["ipv4"] == "10.0.7.2"
    assert ok(simulator, "GET", "client/vpn-1-2-abcd") == client


def test_create_accepts_a_specific_free_ip(simulator):
    assert create_client(simulator, network_name="lab", ipv4="10.0.7.5")["ipv4"] == "10.0.7.5"


def test_generated_names_skip_taken_ones(simulator):
    create_client(simulator, name="client_1")

    assert create_client(simulator)["name"] == "client_2"


def test_create_rejects_wrong_names(simulator):
    for name in ("bad name", "semi;colon", "ünï", " ", "x" * 65):
        body = rejected(simulator, "POST", "client", {"name": name})
        assert body["message"] == WRONG_NAME, name
        assert body["errors"] == {"name": WRONG_NAME}, name


def test_create_rejects_a_wrong_username(simulator):
    body = rejected(simulator, "POST", "client", {"username": "a b"})

    assert body["message"] == "Wrong Username (only letters, numbers and '_', '-')"


def test_create_rejects_a_name_in_use(simulator):
    create_client(simulator, name="dup")

    assert rejected(simulator, "POST", "client", {"name": "dup"})["message"] == (
        "The name is already in use"
    )


def test_create_rejects_a_username_in_use(simulator):
    create_client(simulator, username="bob")

    assert rejected(simulator, "POST", "client", {"username": "bob"})["message"] == (
        "The username is already in use"
    )


def test_create_rejects_an_ip_in_use(simulator):
    create_client(simulator, network_name="lab", ipv4="10.0.7.4")

    body = rejected(simulator, "POST", "client", {"network_name": "lab", "ipv4": "10.0.7.4"})

    assert body["message"] == "IP address already in use"


def test_create_on_unknown_network_is_not_found(simulator):
    body = rejected(simulator, "POST", "client", {"network_name": "nope"}, status=404)

    assert body["message"] == "Network not found"


def test_create_accepts_form_encoded_bodies_like_the_old_panel(simulator):
    form = requests.post(
        simulator.api_url + "client",
        data={"name": "formed", "network_name": "lab"},
        headers={"Authorization": f"Bearer {simulator.token}"},
        timeout=5,
    )

    assert form.json()["data"]["network_name"] == "lab"


def test_update_sets_bandwidth_from_numbers_or_numeric_strings(simulator):
    create_client(simulator, name="c")

    client = ok(simulator, "PUT", "client/c", {"b_download": 100, "b_upload": "25"})

    assert (client["b_download"], client["b_upload"]) == (100, 25)
    assert ok(simulator, "GET", "client/c")["b_upload"] == 25


def test_update_rejects_bandwidth_out_of_range(simulator):
    create_client(simulator, name="c")

    for value in (-1, 10001, "fast", 1.5, True, None):
        body = rejected(simulator, "PUT", "client/c", {"b_download": value})
        assert body["errors"] == {"b_download": "Wrong bandwidth (0-10000)"}, value

    assert ok(simulator, "GET", "client/c")["b_download"] == 0


def test_update_accepts_status_in_any_case(simulator):
    create_client(simulator, name="c")

    assert ok(simulator, "PUT", "client/c", {"status": "Disable"})["status"] == "disable"
    assert ok(simulator, "PUT", "client/c", {"status": "ENABLE"})["status"] == "enable"


def test_update_rejects_unknown_status_and_applies_nothing(simulator):
    create_client(simulator, name="c")

    body = rejected(simulator, "PUT", "client/c", {"status": "paused", "b_upload": 5})

    assert body["message"] == "Wrong status (enable|disable)"
    assert ok(simulator, "GET", "client/c")["b_upload"] == 0


def test_update_reports_every_bad_field(simulator):
    create_client(simulator, name="c")

    body = rejected(simulator, "PUT", "client/c", {"b_download": -5, "b_upload": 99999})

    assert set(body["errors"]) == {"b_download", "b_upload"}


def test_update_changes_password(simulator):
    create_client(simulator, name="c")

    assert ok(simulator, "PUT", "client/c", {"password": "n3w-pass"})["password"] == "n3w-pass"
    assert rejected(simulator, "PUT", "client/c", {"password": "has space"})["errors"] == {
        "password": "Wrong password (1-128 characters, no spaces)"
    }


def test_update_of_unknown_client_is_not_found(simulator):
    body = rejected(simulator, "PUT", "client/ghost", {"b_download": 1}, status=404)

    assert body["message"] == "Account not found"


def test_delete_frees_the_ip_and_the_slot(simulator):
    create_client(simulator, name="c", network_name="lab")

    assert ok(simulator, "DELETE", "client/c") is None

    rejected(simulator, "GET", "client/c", status=404)
    assert ok(simulator, "GET", "system/status")["count_accounts"] == 0
    assert "10.0.7.2" in ok(simulator, "GET", "network/lab/available_ip")
    assert create_client(simulator, network_name="lab")["ipv4"] == "10.0.7.2"


def test_delete_of_unknown_client_answers_account_not_found(simulator):
    body = rejected(simulator, "DELETE", "client/ghost", status=404)

    assert body == {"result": "ERROR", "message": "Account not found", "errors": {}}


def test_client_list_returns_every_client(simulator):
    create_client(simulator, name="a")
    create_client(simulator, name="b", network_name="lab")

    assert [c["name"] for c in ok(simulator, "GET", "client")] == ["a", "b"]


def test_clients_changed_behind_the_back_show_in_the_api(simulator):
    simulator.knob("POST", "clients", {"name": "sneaky", "network_name": "lab"})
    create_client(simulator, name="gone")
    simulator.knob("DELETE", "clients/gone")

    assert [c["name"] for c in ok(simulator, "GET", "client")] == ["sneaky"]
