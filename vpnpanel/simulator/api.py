"""The panel's REST API under ``/api/v1/``: one route table, read by the router and openapi.json."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from vpnpanel.simulator import activity, openapi, profiles
from vpnpanel.simulator.context import Context
from vpnpanel.simulator.errors import PanelError
from vpnpanel.simulator.router import Call, Field, Reply, Route, Router
from vpnpanel.simulator.state import Client

FIRST_YEAR = 2000
YEAR_RE = re.compile(r"^\d{4}$")
MONTH_RE = re.compile(r"^\d{1,2}$")


def system_status(ctx: Context, call: Call) -> dict[str, Any]:
    return {
        "version": ctx.version,
        "count_accounts": ctx.store.client_count(),
        "count_accounts_available": ctx.store.slots(),
        "license_valid": ctx.store.license()["valid"],
    }


def license_detail(ctx: Context, call: Call) -> dict[str, Any]:
    return ctx.store.license()


def network_list(ctx: Context, call: Call) -> list[dict[str, Any]]:
    counts = ctx.store.client_counts()
    return [network.as_wire(counts.get(network.name, 0)) for network in ctx.store.networks()]


def network_detail(ctx: Context, call: Call) -> dict[str, Any]:
    network = ctx.store.network(call.params["name"])
    return network.as_wire(ctx.store.client_counts().get(network.name, 0))


def network_available_ip(ctx: Context, call: Call) -> list[str]:
    return ctx.store.free_ips(ctx.store.network(call.params["name"]))


def client_list(ctx: Context, call: Call) -> list[dict[str, Any]]:
    return [client.as_wire() for client in ctx.store.clients()]


def client_create(ctx: Context, call: Call) -> Reply:
    client = ctx.store.client_create(call.body)
    return Reply(client.as_wire(), "Client created")


def client_detail(ctx: Context, call: Call) -> dict[str, Any]:
    return ctx.store.client(call.params["name"]).as_wire()


def client_update(ctx: Context, call: Call) -> Reply:
    client = ctx.store.client_update(call.params["name"], call.body)
    return Reply(client.as_wire(), "Client updated")


def client_delete(ctx: Context, call: Call) -> Reply:
    ctx.store.client_delete(call.params["name"])
    return Reply(None, "Client deleted")


def client_online(ctx: Context, call: Call) -> list[dict[str, Any]]:
    now = time.time()
    networks = {network.name: network for network in ctx.store.networks()}
    overrides = ctx.store.overrides()
    sessions = (
        activity.session(
            seed=ctx.seed,
            client=client,
            network=networks[client.network_name],
            now=now,
            override=overrides.get(client.name),
        )
        for client in ctx.store.clients()
    )
    return [{**s, **ctx.session_fields.get(s["name"], {})} for s in sessions if s is not None]


def _client_on(ctx: Context, name: str, protocol: str) -> Client:
    """The client, provided its network serves ``protocol``."""
    client = ctx.store.client(name)
    if protocol not in ctx.store.network(client.network_name).enabled_protocols():
        raise PanelError("Protocol is disabled on this network", field="protocol")
    return client


def wireguard_text(ctx: Context, call: Call) -> str:
    client = _client_on(ctx, call.params["name"], "wireguard")
    return profiles.wireguard_config(ctx.peer(client))


def wireguard_qr(ctx: Context, call: Call) -> str:
    return profiles.qr_data_uri(wireguard_text(ctx, call))


def amneziawg_text(ctx: Context, call: Call) -> str:
    client = _client_on(ctx, call.params["name"], "amneziawg")
    params = ctx.store.network(client.network_name).amneziawg_params
    return profiles.amneziawg_config(ctx.peer(client), params)


def amneziawg_qr(ctx: Context, call: Call) -> str:
    return profiles.qr_data_uri(amneziawg_text(ctx, call))


def openvpn_profile(ctx: Context, call: Call) -> str:
    client = _client_on(ctx, call.params["name"], "openvpn")
    return profiles.openvpn_profile(ctx.peer(client), ctx.store.ca_certificate())


def ikev2_profile(ctx: Context, call: Call) -> str:
    client = _client_on(ctx, call.params["name"], "ikev2")
    return profiles.ikev2_profile(ctx.peer(client), ctx.store.ca_certificate())


def client_otl(ctx: Context, call: Call) -> Reply:
    token = ctx.store.otl_issue(call.params["name"])
    return Reply(f"{call.base_url}/otl/{token}", "One-time link created")


def client_traffic(ctx: Context, call: Call) -> list[dict[str, Any]]:
    client = ctx.store.client(call.params["name"])
    now = dt.datetime.now(dt.UTC)
    year, month = _year(call.params["year"], now), _month(call.params["month"])
    return activity.traffic(seed=ctx.seed, client=client, year=year, month=month, now=now)


def _month(raw: str) -> int:
    if not MONTH_RE.match(raw) or not 1 <= int(raw) <= 12:
        raise PanelError("Wrong month setting", field="month")
    return int(raw)


def _year(raw: str, now: dt.datetime) -> int:
    if not YEAR_RE.match(raw) or not FIRST_YEAR <= int(raw) <= now.year:
        raise PanelError("Wrong year setting", field="year")
    return int(raw)


def openapi_document(ctx: Context, call: Call) -> Reply:
    """Served bare, not in the envelope, as the real panel serves its own document."""
    return Reply(openapi.document(ROUTES, version=ctx.version, base_url=call.base_url), raw=True)


CREATE_FIELDS = (
    Field("network_name", "string", "Network to deploy on; omitted: the first with a free IP"),
    Field("name", "string", "Client name (letters, digits, _ and -); generated when omitted"),
    Field("username", "string", "Login for OpenVPN/IKEv2; generated when omitted"),
    Field("password", "string", "Password for OpenVPN/IKEv2; 12 random characters when omitted"),
    Field("ipv4", "string", "A specific free address of the network's pool"),
)
UPDATE_FIELDS = (
    Field("b_download", "integer", "Download limit in Mbit/s, 0-10000, 0 = unlimited"),
    Field("b_upload", "integer", "Upload limit in Mbit/s, 0-10000, 0 = unlimited"),
    Field("status", "string", "enable or disable (disabling disconnects every protocol)"),
    Field("password", "string", "New password"),
)

ROUTES = (
    Route("GET", "openapi.json", openapi_document, "This document", "OpenAPI", auth=False),
    Route("GET", "system/status", system_status, "Version and licence slot usage", "SystemStatus"),
    Route("GET", "license", license_detail, "Licence state", "License"),
    Route("GET", "network", network_list, "All networks", "NetworkList"),
    Route("GET", "network/{name}", network_detail, "One network", "Network"),
    Route("GET", "network/{name}/available_ip", network_available_ip, "Free IPv4s", "IpList"),
    Route("GET", "client", client_list, "All clients", "ClientList"),
    Route("POST", "client", client_create, "Create a client", "Client", CREATE_FIELDS),
    Route("GET", "client/online", client_online, "Sessions of online clients", "SessionList"),
    Route("GET", "client/{name}", client_detail, "One client", "Client"),
    Route("PUT", "client/{name}", client_update, "Change a client", "Client", UPDATE_FIELDS),
    Route("DELETE", "client/{name}", client_delete, "Delete a client", "Null"),
    Route("GET", "client/{name}/config/text", wireguard_text, "WireGuard config", "Text"),
    Route("GET", "client/{name}/config/qr", wireguard_qr, "WireGuard config QR", "DataUri"),
    Route("GET", "client/{name}/amneziawg/config", amneziawg_text, "AmneziaWG config", "Text"),
    Route("GET", "client/{name}/amneziawg/qr", amneziawg_qr, "AmneziaWG config QR", "DataUri"),
    Route("GET", "client/{name}/openvpn/profile", openvpn_profile, "OpenVPN profile", "Text"),
    Route("GET", "client/{name}/ikev2/profile", ikev2_profile, "strongSwan .sswan JSON", "Text"),
    Route("POST", "client/{name}/otl", client_otl, "Create a one-time link", "Url"),
    Route(
        "GET",
        "client/{name}/traffic/{year}/{month}",
        client_traffic,
        "Traffic per day of a month",
        "TrafficRows",
    ),
)
ROUTER = Router(ROUTES)
PUBLIC_PATHS = frozenset(route.template for route in ROUTES if not route.auth)
