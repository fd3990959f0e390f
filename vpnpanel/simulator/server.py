"""HTTP plumbing: one ThreadingHTTPServer, one handler that routes to the API, knobs and links."""

from __future__ import annotations

import contextlib
import hmac
import html
import ipaddress
import json
import re
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vpnpanel.simulator import api, profiles, sim
from vpnpanel.simulator.context import Context
from vpnpanel.simulator.errors import PanelError
from vpnpanel.simulator.faults import Outcome
from vpnpanel.simulator.router import Call, Reply, Router
from vpnpanel.simulator.state import Client

API_PREFIX = "/api/v1/"
SIM_PREFIX = "/_sim/"
OTL_PREFIX = "/otl/"
OTL_TOKEN_RE = re.compile(r"/otl/[^\s\"]+")
GARBAGE = b'\x00\xff<<garbage>> {"result": "OK", "data": [\x89PNG'
BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
Envelope = tuple[int, Any]


def error_envelope(exc: PanelError) -> dict[str, Any]:
    return {"result": "ERROR", "message": exc.message, "errors": exc.errors}


class PanelServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, ctx: Context, host: str, port: int) -> None:
        handler = type("BoundPanelHandler", (PanelHandler,), {"ctx": ctx})
        super().__init__((host, port), handler)
        self.ctx = ctx


class PanelHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PUQVPNCP-simulator"
    # Headers and body go out as two writes; with Nagle on, a kept-alive client's delayed ACK
    # holds the body back ~40 ms per call.
    disable_nagle_algorithm = True
    ctx: Context

    def do_GET(self) -> None:
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        raw = self._read_body()
        if path.startswith(API_PREFIX):
            self._serve_api(path.removeprefix(API_PREFIX), raw)
        elif path.startswith(SIM_PREFIX):
            self._serve_sim(path.removeprefix(SIM_PREFIX), raw)
        elif path.startswith(OTL_PREFIX) and self.command == "GET":
            self._serve_otl(path.removeprefix(OTL_PREFIX))
        else:
            self._send_json(404, error_envelope(PanelError("Not found", status=404)))

    def _serve_api(self, api_path: str, raw: bytes) -> None:
        """A call still waiting out its latency or hang when a wipe comes is dropped unanswered
        and unapplied: it belongs to the test before the wipe, not the next one."""
        if api_path in api.PUBLIC_PATHS:
            status, payload = self._dispatch(api.ROUTER, api_path, raw, auth=False)
            self._send_json(status, payload)
            self._record(api_path, status, None)
            return
        epoch = self.ctx.epoch
        decision = self.ctx.faults.decide(self.command, api_path)
        if decision.delay:
            self.ctx.waiting.wait(decision.delay)
        if self.ctx.epoch != epoch:
            self._drop_connection()
            return
        if decision.outcome is not None:
            self._send_fault(decision.outcome)
            self._record(api_path, decision.outcome.status, decision.outcome.kind)
            return
        status, payload = self._dispatch(api.ROUTER, api_path, raw, auth=True)
        if self.ctx.faults.take_drop_after_write(self.command, status):
            self._drop_connection()
            self._record(api_path, None, "drop_after_write")
            return
        self._send_json(status, payload)
        self._record(api_path, status, None)

    def _serve_sim(self, sim_path: str, raw: bytes) -> None:
        if not (self.ctx.remote_knobs or _is_loopback(self.client_address[0])):
            self._send_json(403, error_envelope(PanelError("Knobs are loopback-only", status=403)))
            return
        status, payload = self._dispatch(sim.ROUTER, sim_path, raw, auth=False)
        self._send_json(status, payload)

    def _serve_otl(self, token: str) -> None:
        try:
            client = self.ctx.store.otl_consume(token)
        except PanelError as exc:
            self._send(exc.status, "text/html; charset=utf-8", _page(exc.message, "").encode())
            return
        self._send(200, "text/html; charset=utf-8", self._otl_page(client).encode())

    def _otl_page(self, client: Client) -> str:
        network = self.ctx.store.network(client.network_name)
        details = f"<p>Client <strong>{html.escape(client.name)}</strong>"
        details += (
            f" on network {html.escape(network.name)}, user {html.escape(client.username)}.</p>"
        )
        if network.wireguard:
            config = profiles.wireguard_config(self.ctx.peer(client))
            details += f"<pre>{html.escape(config)}</pre>"
        return _page(f"VPN access for {client.name}", details)

    def _dispatch(self, router: Router, path: str, raw: bytes, *, auth: bool) -> Envelope:
        try:
            if auth and not self._authorized():
                raise PanelError("Not authorized", status=401)
            route, params = router.resolve(self.command, path)
            call = Call(self.command, params, self._parse_body(raw), self._base_url())
            result = route.handler(self.ctx, call)
        except PanelError as exc:
            return exc.status, error_envelope(exc)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return 500, error_envelope(PanelError("Internal server error", status=500))
        reply = result if isinstance(result, Reply) else Reply(result)
        if reply.raw:
            return reply.status, reply.data
        return reply.status, {"result": "OK", "message": reply.message, "data": reply.data}

    def _authorized(self) -> bool:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        supplied = value.strip().encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(supplied, self.ctx.token.encode())

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _parse_body(self, raw: bytes) -> dict[str, Any]:
        """JSON, as the v2 panel takes; form-encoded too, as the old panel did."""
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return {}
        form = "x-www-form-urlencoded" in self.headers.get("Content-Type", "")
        if form and not text.startswith(("{", "[")):
            return dict(parse_qsl(text))
        try:
            body = json.loads(text)
        except ValueError:
            raise PanelError("Invalid JSON body", status=400) from None
        if not isinstance(body, dict):
            raise PanelError("The body must be a JSON object", status=400)
        return body

    def _base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host}:{port}'}"

    def _send_fault(self, outcome: Outcome) -> None:
        if outcome.kind == "html":
            self._send(outcome.status, "text/html", BAD_GATEWAY)
        elif outcome.kind == "garbage":
            self._send(outcome.status, "application/json", GARBAGE)
        else:
            self._send_json(outcome.status, error_envelope(PanelError(outcome.message)))

    def _drop_connection(self) -> None:
        """Close without a byte of response, as when a proxy or the link dies after the write."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, api_path: str, status: int | None, fault: str | None) -> None:
        self.ctx.calls.record(self.command, API_PREFIX + api_path, status, fault)

    def log_message(self, format: str, *args: Any) -> None:
        """One-time-link tokens are credentials: the log shows ``/otl/***`` instead."""
        line = OTL_TOKEN_RE.sub(OTL_PREFIX + "***", format % args)
        sys.stderr.write(f"{self.address_string()} {line}\n")


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
