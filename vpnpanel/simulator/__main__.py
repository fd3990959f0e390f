"""``python -m vpnpanel.simulator``: run the panel simulator until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from vpnpanel.simulator import validation
from vpnpanel.simulator.context import TOKEN_ENV, Context
from vpnpanel.simulator.errors import PanelError
from vpnpanel.simulator.faults import Faults
from vpnpanel.simulator.server import PanelServer
from vpnpanel.simulator.startup import Startup
from vpnpanel.simulator.state import NetworkSpec, Store

DEFAULT_PROTOCOLS = ("wireguard", "openvpn", "ikev2")
FAULT_FLAGS = (
    ("latency_ms", int, "milliseconds added to every API call"),
    ("error_rate", float, "probability (0..1) of a 500 ERROR answer"),
    ("timeout_rate", float, "probability (0..1) that a call hangs --hang-seconds first"),
    ("hang_seconds", float, "how long a timed-out call hangs (default 30)"),
    ("garbage_next", int, "the next N API answers are 200 with a non-JSON body"),
    ("html_error_next", int, "the next N API answers are a 502 HTML page"),
    ("drop_after_write_next", int, "the next N writes are applied, then the connection drops"),
)


def network_spec(text: str) -> NetworkSpec:
    """``NAME=CIDR[:proto,proto...]``, e.g. ``office=10.0.6.0/24:wireguard,openvpn``."""
    name, _, rest = text.partition("=")
    subnet, _, listed = rest.partition(":")
    try:
        validation.name(name)
        validation.subnet(subnet)
    except PanelError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.message}") from None
    protocols = [p.strip() for p in listed.split(",") if p.strip()] or list(DEFAULT_PROTOCOLS)
    unknown = set(protocols) - set(validation.PROTOCOLS)
    if unknown:
        raise argparse.ArgumentTypeError(f"{text!r}: unknown protocol {', '.join(sorted(unknown))}")
    flags = {p: p in protocols for p in validation.PROTOCOLS}
    return NetworkSpec(name=name, subnet=subnet, **flags)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m vpnpanel.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV), help=f"or ${TOKEN_ENV}")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--slots", type=int, help="licence slots of a new data dir (default 50)")
    parser.add_argument(
        "--network", type=network_spec, action="append", default=[], metavar="NAME=CIDR[:PROTOS]"
    )
    parser.add_argument(
        "--fill-network",
        action="append",
        default=[],
        metavar="NAME",
        help="repeatable; mark that network's pool full, as POST /_sim/networks/NAME/fill",
    )
    parser.add_argument(
        "--exhaust-slots",
        action="store_true",
        help="licence slots := clients now, as POST /_sim/slots/exhaust",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--endpoint-host", help="host in client configs (default: --host)")
    parser.add_argument("--version", dest="panel_version", default="2.1.0-sim")
    parser.add_argument("--remote-knobs", action="store_true", help="serve /_sim/ beyond loopback")
    for name, kind, text in FAULT_FLAGS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, help=text)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error(f"--token (or ${TOKEN_ENV}) is required")
    return args


def startup_from(args: argparse.Namespace) -> Startup:
    return Startup(
        networks=tuple(args.network),
        fill_networks=tuple(args.fill_network),
        exhaust_slots=args.exhaust_slots,
    )


def open_store(args: argparse.Namespace) -> Store:
    """Open the data dir; networks named on the command line are added only if missing."""
    store = Store(args.data_dir / "panel.sqlite3", slots=args.slots)
    startup_from(args).apply(store)
    return store


def build_context(args: argparse.Namespace, store: Store) -> Context:
    flags = {name: getattr(args, name) for name, _, _ in FAULT_FLAGS}
    faults = Faults(seed=args.seed, start={k: v for k, v in flags.items() if v is not None})
    return Context(
        store=store,
        faults=faults,
        startup=startup_from(args),
        token=args.token,
        seed=args.seed,
        version=args.panel_version,
        endpoint_host=args.endpoint_host or args.host,
        remote_knobs=args.remote_knobs,
    )


def run(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        store = open_store(args)
        ctx = build_context(args, store)
    except PanelError as exc:
        print(f"simulator: {exc.message}", file=sys.stderr)
        return 2
    server = PanelServer(ctx, args.host, args.port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve = threading.Thread(target=server.serve_forever, args=(0.1,), name="http", daemon=True)
    serve.start()
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(run())
