import requests

from tests.vpnpanel.simulator.panel_http import call, ok, rejected
from vpnpanel.simulator import api

WIRE_PATHS = {
    ("get", "/api/v1/system/status"),
    ("get", "/api/v1/license"),
    ("get", "/api/v1/network"),
    ("get", "/api/v1/network/{name}"),
    ("get", "/api/v1/network/{name}/available_ip"),
    ("get", "/api/v1/client"),
    ("post", "/api/v1/client"),
    ("put", "/api/v1/client/{name}"),
    ("delete", "/api/v1/client/{name}"),
    ("get", "/api/v1/client/{name}"),
    ("get", "/api/v1/client/{name}/config/text"),
    ("get", "/api/v1/client/{name}/config/qr"),
    ("get", "/api/v1/client/{name}/amneziawg/config"),
    ("get", "/api/v1/client/{name}/amneziawg/qr"),
    ("get", "/api/v1/client/{name}/openvpn/profile"),
    ("get", "/api/v1/client/{name}/ikev2/profile"),
    ("post", "/api/v1/client/{name}/otl"),
    ("get", "/api/v1/client/online"),
    ("get", "/api/v1/client/{name}/traffic/{year}/{month}"),
}


def test_missing_token_is_not_authorized(simulator):
    response = requests.get(simulator.api_url + "system/status", timeout=5)

    assert response.status_code == 401
    assert response.json() == {"result": "ERROR", "message": "Not authorized", "errors": {}}


def test_wrong_token_is_not_authorized(simulator):
    response = call(simulator, "GET", "network", token="not-the-token")

    assert response.status_code == 401
    assert response.json()["message"] == "Not authorized"


def test_unknown_path_needs_auth_then_answers_not_found(simulator):
    assert call(simulator, "GET", "nothing/here", token="wrong").status_code == 401
    rejected(simulator, "GET", "nothing/here", status=404)


def test_wrong_method_on_known_path_is_405(simulator):
    rejected(simulator, "PATCH", "system/status", status=405)


def test_system_status_counts_accounts_against_slots(simulator):
    ok(simulator, "POST", "client", {})

    status = ok(simulator, "GET", "system/status")

    assert status == {
        "version": "2.1.0-sim",
        "count_accounts": 1,
        "count_accounts_available": 50,
        "license_valid": True,
    }


def test_license_reports_slots(simulator):
    assert ok(simulator, "GET", "license") == {
        "valid": True,
        "accounts": 50,
        "expiration_date": None,
    }


def test_version_flag_is_reported(simulator_factory):
    simulator = simulator_factory(version="1.9.9")

    assert ok(simulator, "GET", "system/status")["version"] == "1.9.9"


def test_openapi_document_lists_every_route_without_auth(simulator):
    document = requests.get(simulator.api_url + "openapi.json", timeout=5).json()

    listed = {(method, path) for path, ops in document["paths"].items() for method in ops}
    routed = {(r.method.lower(), "/api/v1/" + r.template) for r in api.ROUTES}
    assert document["openapi"].startswith("3.0")
    assert listed == routed
    assert listed >= WIRE_PATHS


def test_openapi_document_describes_parameters_and_bodies(simulator):
    paths = requests.get(simulator.api_url + "openapi.json", timeout=5).json()["paths"]

    traffic = paths["/api/v1/client/{name}/traffic/{year}/{month}"]["get"]
    create = paths["/api/v1/client"]["post"]
    update = paths["/api/v1/client/{name}"]["put"]
    assert [p["name"] for p in traffic["parameters"]] == ["name", "year", "month"]
    create_fields = create["requestBody"]["content"]["application/json"]["schema"]["properties"]
    update_fields = update["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"network_name", "name", "username", "password"} <= set(create_fields)
    assert {"b_download", "b_upload", "status", "password"} <= set(update_fields)
    envelope = create["responses"]["200"]["content"]["application/json"]["schema"]
    assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/Client"}
