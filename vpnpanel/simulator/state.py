"""The panel's persistent state: one SQLite file, every mutation under one lock.

One lock around one connection makes requests that race for the last IP or licence slot behave
like a real panel: one wins, the other gets the panel's error.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpnpanel.simulator import profiles, validation
from vpnpanel.simulator.errors import PanelError, not_found

DEFAULT_SLOTS = 50
AVAILABLE_IP_LIMIT = 256
OTL_BYTES = 40
WIPED_TABLES = ("otl", "session_overrides", "clients", "networks")
KEPT_META = ("ca_cert", "ca_key")
IPV6_PREFIX = ipaddress.IPv6Network("fd00::/96")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS networks (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    description TEXT NOT NULL,
    subnet TEXT NOT NULL,
    wireguard INTEGER NOT NULL,
    amneziawg INTEGER NOT NULL,
    openvpn INTEGER NOT NULL,
    ikev2 INTEGER NOT NULL,
    bandwidth_download INTEGER NOT NULL,
    bandwidth_upload INTEGER NOT NULL,
    server_private_key TEXT NOT NULL,
    server_public_key TEXT NOT NULL,
    amneziawg_params TEXT NOT NULL,
    filled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS clients (
    name TEXT PRIMARY KEY,
    network_name TEXT NOT NULL REFERENCES networks(name),
    ipv4 TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL,
    status TEXT NOT NULL,
    b_download INTEGER NOT NULL,
    b_upload INTEGER NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS otl (
    token TEXT PRIMARY KEY,
    client_name TEXT NOT NULL,
    created_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS session_overrides (
    client_name TEXT PRIMARY KEY,
    online INTEGER NOT NULL,
    protocol TEXT,
    since REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Network:
    name: str
    description: str
    subnet: str
    wireguard: bool
    amneziawg: bool
    openvpn: bool
    ikev2: bool
    bandwidth_download: int
    bandwidth_upload: int
    server_private_key: str
    server_public_key: str
    amneziawg_params: dict[str, int]
    filled: bool

    @property
    def pool(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    def enabled_protocols(self) -> list[str]:
        return [p for p in validation.PROTOCOLS if getattr(self, p)]

    def as_wire(self, clients: int) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in WIRE_NETWORK_FIELDS}
        data["clients"] = clients
        return data


WIRE_NETWORK_FIELDS = (
    "name",
    "description",
    "subnet",
    *validation.PROTOCOLS,
    "bandwidth_download",
    "bandwidth_upload",
)


@dataclass(frozen=True)
class Client:
    name: str
    network_name: str
    ipv4: str
    username: str
    password: str
    status: str
    b_download: int
    b_upload: int
    private_key: str
    public_key: str
    created_at: float

    @property
    def ipv6(self) -> str:
        """A ULA address derived from the IPv4 one, so it needs no pool of its own."""
        address = IPV6_PREFIX.network_address + int(ipaddress.IPv4Address(self.ipv4))
        return str(address)

    def as_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "network_name": self.network_name,
            "ipv4": self.ipv4,
            "ipv6": self.ipv6,
            "username": self.username,
            "password": self.password,
            "status": self.status,
            "b_download": self.b_download,
            "b_upload": self.b_upload,
            "public_key": self.public_key,
        }


@dataclass(frozen=True)
class SessionOverride:
    online: bool
    protocol: str | None
    since: float


@dataclass(frozen=True)
class NetworkSpec:
    """A network to create; protocol defaults match the panel's default network."""

    name: str
    subnet: str
    wireguard: bool = True
    amneziawg: bool = False
    openvpn: bool = True
    ikev2: bool = True
    description: str = ""
    bandwidth_download: int = 0
    bandwidth_upload: int = 0


class Store:
    """All reads and writes of the panel state; methods raise :class:`PanelError` on rejection."""

    def __init__(self, path: Path, *, slots: int | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        self._start_slots = DEFAULT_SLOTS if slots is None else slots
        with self.transaction():
            if self._meta("slots") is None:
                self._set_meta("slots", str(self._start_slots))

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def wipe(self) -> None:
        """Forget every network, client, link, override and counter, as in a new data dir.

        The CA stays: making one takes an RSA key, and no answer tells an old CA from a new one.
        """
        with self.transaction() as db:
            for table in WIPED_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'networks'")
            kept = ", ".join("?" * len(KEPT_META))
            db.execute(f"DELETE FROM meta WHERE key NOT IN ({kept})", KEPT_META)  # noqa: S608
            self._set_meta("slots", str(self._start_slots))

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def _set_meta(self, key: str, value: str | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- licence -------------------------------------------------------------------------------

    def slots(self) -> int:
        with self.lock:
            return int(self._meta("slots") or DEFAULT_SLOTS)

    def set_slots(self, total: int) -> None:
        with self.transaction():
            self._set_meta("slots", str(total))

    def exhaust_slots(self) -> None:
        """Licence slots := clients now, so the next create hits the account limit."""
        with self.transaction():
            self._set_meta("slots", str(self.client_count()))

    def license(self) -> dict[str, Any]:
        with self.lock:
            return {
                "valid": self._meta("license_valid") != "0",
                "accounts": self.slots(),
                "expiration_date": self._meta("license_expiration"),
            }

    def set_license(self, *, valid: bool | None = None, expiration_date: str | None = None) -> None:
        with self.transaction():
            if valid is not None:
                self._set_meta("license_valid", "1" if valid else "0")
            if expiration_date is not None:
                self._set_meta("license_expiration", expiration_date or None)

    # -- networks ------------------------------------------------------------------------------

    def networks(self) -> list[Network]:
        with self.lock:
            rows = self._db.execute("SELECT * FROM networks ORDER BY position").fetchall()
            return [_network(row) for row in rows]

    def network(self, name: str) -> Network:
        with self.lock:
            row = self._db.execute("SELECT * FROM networks WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise not_found("Network")
            return _network(row)

    def network_exists(self, name: str) -> bool:
        with self.lock:
            row = self._db.execute("SELECT 1 FROM networks WHERE name = ?", (name,)).fetchone()
            return row is not None

    def network_add(self, spec: NetworkSpec) -> Network:
        validation.name(spec.name, field="name")
        pool = validation.subnet(spec.subnet)
        private, public = profiles.wireguard_keypair()
        with self.transaction() as db:
            if self.network_exists(spec.name):
                raise PanelError("The network name is already in use", field="name")
            self._check_no_overlap(pool)
            db.execute(
                "INSERT INTO networks (name, description, subnet, wireguard, amneziawg, openvpn,"
                " ikev2, bandwidth_download, bandwidth_upload, server_private_key,"
                " server_public_key, amneziawg_params) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    spec.name,
                    spec.description,
                    str(pool),
                    *(int(getattr(spec, p)) for p in validation.PROTOCOLS),
                    spec.bandwidth_download,
                    spec.bandwidth_upload,
                    private,
                    public,
                    json.dumps(profiles.amneziawg_parameters()),
                ),
            )
            return self.network(spec.name)

    def _check_no_overlap(self, pool: ipaddress.IPv4Network) -> None:
        """Client IPs are unique across networks, so overlapping pools would collide on create."""
        for network in self.networks():
            if pool.overlaps(network.pool):
                message = f"The subnet {pool} overlaps network {network.name} ({network.subnet})"
                raise PanelError(message, field="subnet")

    def network_update(self, name: str, changes: dict[str, Any]) -> Network:
        """Flip protocol flags or change description/bandwidth; unknown keys are ignored."""
        values: dict[str, Any] = {}
        for protocol in validation.PROTOCOLS:
            if protocol in changes:
                values[protocol] = int(validation.flag(changes[protocol], field=protocol))
        for field in ("bandwidth_download", "bandwidth_upload"):
            if field in changes:
                values[field] = validation.bandwidth(changes[field], field=field)
        if "description" in changes:
            values["description"] = str(changes["description"])
        with self.transaction() as db:
            self.network(name)
            for column, value in values.items():
                db.execute(f"UPDATE networks SET {column} = ? WHERE name = ?", (value, name))  # noqa: S608
            return self.network(name)

    def network_fill(self, name: str, *, filled: bool) -> Network:
        """Mark a pool full (or not) without creating clients, so licence slots stay untouched."""
        with self.transaction() as db:
            self.network(name)
            db.execute("UPDATE networks SET filled = ? WHERE name = ?", (int(filled), name))
            return self.network(name)

    def client_counts(self) -> dict[str, int]:
        with self.lock:
            rows = self._db.execute(
                "SELECT network_name, COUNT(*) AS n FROM clients GROUP BY network_name"
            ).fetchall()
            return {row["network_name"]: row["n"] for row in rows}

    def free_ips(self, network: Network, limit: int = AVAILABLE_IP_LIMIT) -> list[str]:
        if network.filled:
            return []
        with self.lock:
            rows = self._db.execute(
                "SELECT ipv4 FROM clients WHERE network_name = ?", (network.name,)
            ).fetchall()
        taken = {ipaddress.IPv4Address(row["ipv4"]) for row in rows}
        taken |= validation.reserved_addresses(network.pool)
        free = (str(ip) for ip in network.pool if ip not in taken)
        return list(itertools.islice(free, limit))

    # -- clients -------------------------------------------------------------------------------

    def clients(self) -> list[Client]:
        with self.lock:
            rows = self._db.execute("SELECT * FROM clients ORDER BY created_at, name").fetchall()
            return [_client(row) for row in rows]

    def client(self, name: str) -> Client:
        with self.lock:
            row = self._db.execute("SELECT * FROM clients WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise not_found("Account")
            return _client(row)

    def client_count(self) -> int:
        with self.lock:
            return int(self._db.execute("SELECT COUNT(*) FROM clients").fetchone()[0])

    def client_create(self, body: dict[str, Any], *, created_at: float | None = None) -> Client:
        """Create a client the way the panel does: fill in what is missing, then allocate.

        ``created_at`` backdates the client (knob only), so it has a traffic history.
        """
        _reject_invalid(_create_errors(body))
        private, public = profiles.wireguard_keypair()
        with self.transaction() as db:
            name = body.get("name") or self._generated("client", "name")
            username = body.get("username") or self._generated("user", "username")
            self._check_unique(name, username)
            network = self._deploy_network(body.get("network_name"))
            if self.client_count() >= self.slots():
                raise PanelError("VPN account limit exceeded")
            ipv4 = self._allocate_ip(network, body.get("ipv4"))
            db.execute(
                "INSERT INTO clients (name, network_name, ipv4, username, password, status,"
                " b_download, b_upload, private_key, public_key, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    name,
                    network.name,
                    ipv4,
                    username,
                    body.get("password") or _random_password(),
                    "enable",
                    0,
                    0,
                    private,
                    public,
                    time.time() if created_at is None else created_at,
                ),
            )
            return self.client(name)

    def clients_seed(
        self, *, prefix: str, count: int, network_name: str, created_at: float
    ) -> list[str]:
        """``count`` clients ``<prefix>-1`` .. ``<prefix>-<count>`` in one transaction (knob
        only): a bench seeds thousands in well under a second instead of a call each. All or
        none; the licence slots and the network's free IPs apply as to a create."""
        names, when = [f"{prefix}-{n}" for n in range(1, count + 1)], created_at
        for name in names:
            validation.name(name, field="prefix")
        with self.transaction() as db:
            network = self.network(network_name)
            if self.client_count() + count > self.slots():
                raise PanelError("VPN account limit exceeded")
            free = self.free_ips(network, limit=count)
            if len(free) < count:
                raise PanelError("No free IP address in the network")
            for name in names:
                self._check_unique(name, name)
            keys = [profiles.wireguard_keypair() for _ in names]
            rows = [
                (name, network.name, ip, name, _random_password(), "enable", 0, 0, *pair, when)
                for name, ip, pair in zip(names, free, keys, strict=True)
            ]
            db.executemany(
                "INSERT INTO clients (name, network_name, ipv4, username, password, status,"
                " b_download, b_upload, private_key, public_key, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        return names

    def _generated(self, prefix: str, column: str) -> str:
        """The next free ``<prefix>_<n>``, with ``n`` persisted so names are never reused."""
        counter = int(self._meta(f"next_{prefix}") or 1)
        while self._db.execute(
            f"SELECT 1 FROM clients WHERE {column} = ?",  # noqa: S608
            (f"{prefix}_{counter}",),
        ).fetchone():
            counter += 1
        self._set_meta(f"next_{prefix}", str(counter + 1))
        return f"{prefix}_{counter}"

    def _check_unique(self, name: str, username: str) -> None:
        if self._db.execute("SELECT 1 FROM clients WHERE name = ?", (name,)).fetchone():
            raise PanelError("The name is already in use", field="name")
        if self._db.execute("SELECT 1 FROM clients WHERE username = ?", (username,)).fetchone():
            raise PanelError("The username is already in use", field="username")

    def _deploy_network(self, network_name: str | None) -> Network:
        """The named network, or else the first one (in creation order) with a free IP."""
        if network_name:
            return self.network(network_name)
        networks = self.networks()
        if not networks:
            raise not_found("Network")
        return next((n for n in networks if self.free_ips(n, limit=1)), networks[0])

    def _allocate_ip(self, network: Network, requested: str | None) -> str:
        free = self.free_ips(network, limit=1)
        if requested is None:
            if not free:
                raise PanelError("No free IP address in the network")
            return free[0]
        ipv4 = validation.ipv4_in(requested, network.pool)
        if self._db.execute("SELECT 1 FROM clients WHERE ipv4 = ?", (ipv4,)).fetchone():
            raise PanelError("IP address already in use", field="ipv4")
        if network.filled:
            raise PanelError("No free IP address in the network")
        return ipv4

    def client_update(self, name: str, body: dict[str, Any]) -> Client:
        changes = _reject_invalid(_update_changes(body))
        with self.transaction() as db:
            self.client(name)
            for column, value in changes.items():
                db.execute(f"UPDATE clients SET {column} = ? WHERE name = ?", (value, name))  # noqa: S608
            return self.client(name)

    def client_delete(self, name: str) -> None:
        with self.transaction() as db:
            self.client(name)
            db.execute("DELETE FROM clients WHERE name = ?", (name,))
            db.execute("DELETE FROM otl WHERE client_name = ?", (name,))
            db.execute("DELETE FROM session_overrides WHERE client_name = ?", (name,))

    # -- one-time links ------------------------------------------------------------------------

    def otl_issue(self, client_name: str) -> str:
        token = secrets.token_hex(OTL_BYTES)
        with self.transaction() as db:
            self.client(client_name)
            db.execute(
                "INSERT INTO otl (token, client_name, created_at) VALUES (?, ?, ?)",
                (token, client_name, time.time()),
            )
        return token

    def otl_consume(self, token: str) -> Client:
        """The link's client on first use; 410 once used, 404 when unknown."""
        with self.transaction() as db:
            row = db.execute("SELECT * FROM otl WHERE token = ?", (token,)).fetchone()
            if row is None:
                raise PanelError("Link not found", status=404)
            if row["used_at"] is not None:
                raise PanelError("This link has already been used", status=410)
            db.execute("UPDATE otl SET used_at = ? WHERE token = ?", (time.time(), token))
            return self.client(row["client_name"])

    # -- certificate authority -----------------------------------------------------------------

    def ca_certificate(self) -> str:
        """The data dir's CA (PEM), generated on first use and kept for good."""
        with self.transaction():
            pem = self._meta("ca_cert")
            if pem is None:
                pem, key = profiles.new_certificate_authority("PUQVPNCP simulator CA")
                self._set_meta("ca_cert", pem)
                self._set_meta("ca_key", key)
            return pem

    # -- session overrides ---------------------------------------------------------------------

    def overrides(self) -> dict[str, SessionOverride]:
        with self.lock:
            rows = self._db.execute("SELECT * FROM session_overrides").fetchall()
            return {
                row["client_name"]: SessionOverride(
                    bool(row["online"]), row["protocol"], row["since"]
                )
                for row in rows
            }

    def set_override(self, client_name: str, online: bool | None, protocol: str | None) -> None:
        with self.transaction() as db:
            self.client(client_name)
            db.execute("DELETE FROM session_overrides WHERE client_name = ?", (client_name,))
            if online is not None:
                db.execute(
                    "INSERT INTO session_overrides (client_name, online, protocol, since)"
                    " VALUES (?, ?, ?, ?)",
                    (client_name, int(online), protocol, time.time()),
                )

    def clear_overrides(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM session_overrides")


def _network(row: sqlite3.Row) -> Network:
    return Network(
        name=row["name"],
        description=row["description"],
        subnet=row["subnet"],
        wireguard=bool(row["wireguard"]),
        amneziawg=bool(row["amneziawg"]),
        openvpn=bool(row["openvpn"]),
        ikev2=bool(row["ikev2"]),
        bandwidth_download=row["bandwidth_download"],
        bandwidth_upload=row["bandwidth_upload"],
        server_private_key=row["server_private_key"],
        server_public_key=row["server_public_key"],
        amneziawg_params=json.loads(row["amneziawg_params"]),
        filled=bool(row["filled"]),
    )


def _client(row: sqlite3.Row) -> Client:
    return Client(**{key: row[key] for key in row.keys()})  # noqa: SIM118


def _random_password(length: int = 12) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _collect(errors: dict[str, str], field: str, check: Any, *args: Any) -> Any:
    """Run one field check, recording its message instead of stopping at the first failure."""
    try:
        return check(*args)
    except PanelError as exc:
        errors.update(exc.errors or {field: exc.message})
        return None


def _create_errors(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    if body.get("name") is not None:
        _collect(errors, "name", validation.name, body["name"])
    if body.get("username") is not None:
        _collect(errors, "username", validation.username, body["username"])
    if body.get("password") is not None:
        _collect(errors, "password", validation.password, body["password"])
    if body.get("network_name") is not None and not isinstance(body["network_name"], str):
        errors["network_name"] = "Network not found"
    return body, errors


def _update_changes(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for field in ("b_download", "b_upload"):
        if field in body:
            changes[field] = _collect(errors, field, _bandwidth, body[field], field)
    if "status" in body:
        changes["status"] = _collect(errors, "status", validation.status, body["status"])
    if "password" in body:
        changes["password"] = _collect(errors, "password", validation.password, body["password"])
    return changes, errors


def _bandwidth(value: Any, field: str) -> int:
    return validation.bandwidth(value, field=field)


def _reject_invalid(checked: tuple[dict[str, Any], dict[str, str]]) -> dict[str, Any]:
    values, errors = checked
    if errors:
        raise PanelError(next(iter(errors.values())), errors=errors)
    return values
