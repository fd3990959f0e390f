"""The ``/_sim/`` knobs: a loopback dev tool to inspect state and inject faults, without auth."""

from __future__ import annotations

import time
from typing import Any

from vpnpanel.simulator import validation
from vpnpanel.simulator.context import Context
from vpnpanel.simulator.errors import PanelError
from vpnpanel.simulator.router import Call, Reply, Route, Router
from vpnpanel.simulator.state import Network, NetworkSpec

SESSION_FIELDS = frozenset({"protocol", "network_name", "ip", "endpoint"})


def sim_state(ctx: Context, call: Call) -> dict[str, Any]:
    networks = [_network_wire(ctx, network) for network in ctx.store.networks()]
    overrides = {
        name: {"online": o.online, "protocol": o.protocol, "since": o.since}
        for name, o in ctx.store.overrides().items()
    }
    return {
        "version": ctx.version,
        "seed": ctx.seed,
        "networks": networks,
        "clients": [client.as_wire() for client in ctx.store.clients()],
        "slots": {"total": ctx.store.slots(), "used": ctx.store.client_count()},
        "license": ctx.store.license(),
        "faults": ctx.faults.snapshot(),
        "session_overrides": overrides,
        "waiting_calls": ctx.waiting.count,
    }


def sim_reset(ctx: Context, call: Call) -> Reply:
    ctx.faults.reset()
    ctx.store.clear_overrides()
    ctx.session_fields.clear()
    return Reply(ctx.faults.snapshot(), "Faults and session overrides cleared")


def sim_wipe(ctx: Context, call: Call) -> Reply:
    ctx.wipe()
    return Reply(sim_state(ctx, call), "Back to the state of a fresh start")


def faults_get(ctx: Context, call: Call) -> dict[str, Any]:
    return ctx.faults.snapshot()


def faults_merge(ctx: Context, call: Call) -> dict[str, Any]:
    return ctx.faults.merge(call.body)


def calls_list(ctx: Context, call: Call) -> list[dict[str, Any]]:
    return ctx.calls.entries()


def calls_reset(ctx: Context, call: Call) -> None:
    ctx.calls.clear()


def network_add(ctx: Context, call: Call) -> dict[str, Any]:
    body = call.body
    flags = {p: validation.flag(body[p], field=p) for p in validation.PROTOCOLS if p in body}
    limits = {
        f: validation.bandwidth(body[f], field=f)
        for f in ("bandwidth_download", "bandwidth_upload")
        if f in body
    }
    spec = NetworkSpec(
        name=body.get("name", ""),
        subnet=body.get("subnet", ""),
        description=str(body.get("description", "")),
        **flags,
        **limits,
    )
    return _network_wire(ctx, ctx.store.network_add(spec))


def _network_wire(ctx: Context, network: Network) -> dict[str, Any]:
    clients = ctx.store.client_counts().get(network.name, 0)
    return {**network.as_wire(clients), "filled": network.filled}


def network_update(ctx: Context, call: Call) -> dict[str, Any]:
    return _network_wire(ctx, ctx.store.network_update(call.params["name"], call.body))


def network_fill(ctx: Context, call: Call) -> dict[str, Any]:
    return _network_wire(ctx, ctx.store.network_fill(call.params["name"], filled=True))


def network_free(ctx: Context, call: Call) -> dict[str, Any]:
    return _network_wire(ctx, ctx.store.network_fill(call.params["name"], filled=False))


def slots_set(ctx: Context, call: Call) -> dict[str, Any]:
    total = call.body.get("total")
    if total is not None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise PanelError("total must be a whole number >= 0", field="total")
        ctx.store.set_slots(total)
    valid = call.body.get("valid")
    ctx.store.set_license(
        valid=None if valid is None else validation.flag(valid, field="valid"),
        expiration_date=call.body.get("expiration_date"),
    )
    return {"total": ctx.store.slots(), "used": ctx.store.client_count()}


def slots_exhaust(ctx: Context, call: Call) -> dict[str, Any]:
    ctx.store.exhaust_slots()
    return {"total": ctx.store.slots(), "used": ctx.store.client_count()}


def client_create(ctx: Context, call: Call) -> dict[str, Any]:
    """As the API's create; ``created_days_ago`` backdates the client to give it traffic history."""
    body = dict(call.body)
    days = body.pop("created_days_ago", 0)
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise PanelError("created_days_ago must be a number >= 0", field="created_days_ago")
    return ctx.store.client_create(body, created_at=time.time() - days * 86400).as_wire()


def clients_seed(ctx: Context, call: Call) -> dict[str, Any]:
    """``count`` clients ``<prefix>-<n>`` on ``network_name`` at once, backdated like a create."""
    body = call.body
    count, days = body.get("count"), body.get("created_days_ago", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise PanelError("count must be a whole number >= 1", field="count")
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise PanelError("created_days_ago must be a number >= 0", field="created_days_ago")
    names = ctx.store.clients_seed(
        prefix=str(body.get("prefix") or "seeded"),
        count=count,
        network_name=str(body.get("network_name") or ""),
        created_at=time.time() - days * 86400,
    )
    return {"created": len(names), "first": names[0], "last": names[-1]}


def client_delete(ctx: Context, call: Call) -> Reply:
    ctx.store.client_delete(call.params["name"])
    return Reply(None, "Client deleted")


def client_session(ctx: Context, call: Call) -> dict[str, Any]:
    """Force a client online/offline; ``online: null`` hands it back to the seeded schedule.

    ``fields`` replaces the session's strings verbatim (a hostile or broken panel); each call
    replaces them, and a call without them drops them.
    """
    name = call.params["name"]
    online = call.body.get("online")
    if online is not None and not isinstance(online, bool):
        raise PanelError("online must be true, false or null", field="online")
    protocol = call.body.get("protocol")
    if protocol is not None:
        client = ctx.store.client(name)
        enabled = ctx.store.network(client.network_name).enabled_protocols()
        if validation.protocols(protocol) not in enabled:
            raise PanelError("Protocol is disabled on this network", field="protocol")
    fields = _session_fields(call.body.get("fields") or {})
    ctx.store.set_override(name, online, protocol)
    if fields:
        ctx.session_fields[name] = fields
    else:
        ctx.session_fields.pop(name, None)
    return {"name": name, "online": online, "protocol": protocol, "fields": fields}


def _session_fields(fields: Any) -> dict[str, str]:
    if not isinstance(fields, dict) or not set(fields) <= SESSION_FIELDS:
        raise PanelError(f"fields may set only {', '.join(sorted(SESSION_FIELDS))}", field="fields")
    if not all(isinstance(value, str) for value in fields.values()):
        raise PanelError("fields values must be text", field="fields")
    return dict(fields)


ROUTES = (
    Route("GET", "state", sim_state, "Networks, clients, slots, faults", auth=False),
    Route("POST", "reset", sim_reset, "Clear faults and session overrides", auth=False),
    Route("POST", "wipe", sim_wipe, "Back to the state of a fresh start", auth=False),
    Route("GET", "faults", faults_get, "Current faults", auth=False),
    Route("POST", "faults", faults_merge, "Merge fault settings", auth=False),
    Route("GET", "calls", calls_list, "API calls received", auth=False),
    Route("POST", "calls/reset", calls_reset, "Forget logged calls", auth=False),
    Route("POST", "networks", network_add, "Add a network", auth=False),
    Route("PUT", "networks/{name}", network_update, "Change a network", auth=False),
    Route("POST", "networks/{name}/fill", network_fill, "Mark the pool full", auth=False),
    Route("POST", "networks/{name}/free", network_free, "Undo fill", auth=False),
    Route("POST", "slots", slots_set, "Set licence slots", auth=False),
    Route("POST", "slots/exhaust", slots_exhaust, "Slots := used", auth=False),
    Route("POST", "clients", client_create, "Create a client behind the portal", auth=False),
    Route("POST", "clients/seed", clients_seed, "Create many clients at once", auth=False),
    Route(
        "DELETE", "clients/{name}", client_delete, "Delete a client behind the portal", auth=False
    ),
    Route("POST", "clients/{name}/session", client_session, "Force a session state", auth=False),
)
ROUTER = Router(ROUTES)
