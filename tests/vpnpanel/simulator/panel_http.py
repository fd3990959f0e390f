"""Plain-``requests`` helpers for talking to the live simulator (not the panel client)."""

from __future__ import annotations

from typing import Any

import requests

from vpnpanel.simulator.process import SimulatorProcess

TIMEOUT = 10.0


def call(
    simulator: SimulatorProcess,
    method: str,
    path: str,
    json: Any = None,
    *,
    token: str | None = None,
    timeout: float = TIMEOUT,
) -> requests.Response:
    """One API call with the simulator's token (or ``token``), path relative to ``/api/v1/``."""
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token or simulator.token}"}
    return requests.request(
        method, simulator.api_url + path, json=json, headers=headers, timeout=timeout
    )


def ok(simulator: SimulatorProcess, method: str, path: str, json: Any = None) -> Any:
    """The payload of a call that must succeed."""
    response = call(simulator, method, path, json)
    body = response.json()
    assert response.status_code == 200, body
    assert body["result"] == "OK", body
    return body["data"]


def rejected(
    simulator: SimulatorProcess, method: str, path: str, json: Any = None, *, status: int = 422
) -> dict[str, Any]:
    """The ERROR envelope of a call that must fail with ``status``."""
    response = call(simulator, method, path, json)
    body = response.json()
    assert response.status_code == status, body
    assert body["result"] == "ERROR", body
    return body


def create_client(simulator: SimulatorProcess, **fields: Any) -> dict[str, Any]:
    return ok(simulator, "POST", "client", fields)
