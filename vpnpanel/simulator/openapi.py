"""OpenAPI 3.0 document generated from the same route table the router uses, so it cannot drift."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vpnpanel.simulator.router import Route

API_PREFIX = "/api/v1/"
PARAMETER_DESCRIPTIONS = {
    "name": "Client or network name",
    "year": "Four-digit year, 2000 up to the current year",
    "month": "Month 1-12, padded or not",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": kind} for key, kind in properties.items()},
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


SCHEMAS: dict[str, dict[str, Any]] = {
    "SystemStatus": _object(
        {
            "version": "string",
            "count_accounts": "integer",
            "count_accounts_available": "integer",
            "license_valid": "boolean",
        }
    ),
    "License": _object({"valid": "boolean", "accounts": "integer", "expiration_date": "string"}),
    "Network": _object(
        {
            "name": "string",
            "description": "string",
            "subnet": "string",
            "wireguard": "boolean",
            "amneziawg": "boolean",
            "openvpn": "boolean",
            "ikev2": "boolean",
            "bandwidth_download": "integer",
            "bandwidth_upload": "integer",
            "clients": "integer",
        }
    ),
    "Client": _object(
        {
            "name": "string",
            "network_name": "string",
            "ipv4": "string",
            "ipv6": "string",
            "username": "string",
            "password": "string",
            "status": "string",
            "b_download": "integer",
            "b_upload": "integer",
            "public_key": "string",
        }
    ),
    "Session": _object(
        {
            "name": "string",
            "protocol": "string",
            "network_name": "string",
            "ip": "string",
            "endpoint": "string",
            "latest_handshake": "integer",
            "transfer_rx": "integer",
            "transfer_tx": "integer",
        }
    ),
    "TrafficRow": _object(
        {"date": "string", "traffic_download": "integer", "traffic_upload": "integer"}
    ),
    "Error": {
        "type": "object",
        "properties": {
            "result": {"type": "string", "enum": ["ERROR"]},
            "message": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}

PAYLOADS: dict[str, dict[str, Any]] = {
    "SystemStatus": _ref("SystemStatus"),
    "License": _ref("License"),
    "Network": _ref("Network"),
    "NetworkList": _array(_ref("Network")),
    "IpList": _array({"type": "string", "format": "ipv4"}),
    "Client": _ref("Client"),
    "ClientList": _array(_ref("Client")),
    "SessionList": _array(_ref("Session")),
    "TrafficRows": _array(_ref("TrafficRow")),
    "Text": {"type": "string"},
    "DataUri": {"type": "string", "description": "data:image/png;base64,..."},
    "Url": {"type": "string", "format": "uri"},
    "Null": {"nullable": True},
}


def _envelope(payload: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "result": {"type": "string", "enum": ["OK"]},
            "message": {"type": "string"},
            "data": PAYLOADS[payload],
        },
    }


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.template}".replace("/", "_").strip("_"),
        "parameters": [
            {
                "name": param,
                "in": "path",
                "required": True,
                "description": PARAMETER_DESCRIPTIONS.get(param, param),
                "schema": {"type": "string"},
            }
            for param in route.parameters
        ],
        "responses": _responses(route),
    }
    if not route.auth:
        operation["security"] = []
    if route.body:
        schema = {
            "type": "object",
            "properties": {
                f.name: {"type": f.type, "description": f.description} for f in route.body
            },
        }
        required = [f.name for f in route.body if f.required]
        if required:
            schema["required"] = required
        operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    return operation


def _responses(route: Route) -> dict[str, Any]:
    if route.response == "OpenAPI":
        return {"200": {"description": "OpenAPI 3.0 document", "content": {"application/json": {}}}}
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    return {
        "200": {
            "description": "Success",
            "content": {"application/json": {"schema": _envelope(route.response)}},
        },
        "401": {"description": "Not authorized", **error},
        "404": {"description": "Account not found / Network not found", **error},
        "422": {"description": "Validation or business rejection", **error},
    }


def document(routes: Sequence[Route], *, version: str, base_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(API_PREFIX + route.template, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {"title": "PUQVPNCP panel API (simulator)", "version": version},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
