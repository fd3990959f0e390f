import os
import signal
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo.config import DemoConfig, DemoPanel, demo_config_path
from portal.demo.supervisor import ProcessFailed, Supervisor
from vpnpanel.simulator.context import TOKEN_ENV

# The demo's payment methods: the test gateway (DEBUG) pays at once; bank transfer shows these.
DEMO_SHOP_ENV = {
    "BILLING_BANK_TRANSFER_INSTRUCTIONS": (
        "Demo Bank, IBAN DE02 1203 0000 0000 2020 51, BIC BYLADEM1001. Nothing is charged in "
        "the demo: an admin records the transfer under Billing → Invoices → Record a payment."
    ),
}


class Command(BaseCommand):
    help = (
        "Start the whole demo: the simulated panels, a Celery worker with beat and the web "
        "server. Ctrl-C stops every process it started. Run `manage.py seed_demo` first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options) -> None:
        try:
            config = DemoConfig.load()
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        _refuse_a_panels_port(config, options["port"])
        web_url = f"http://{options['host']}:{options['port']}"
        supervisor = Supervisor(Path(settings.VAR_DIR) / "log")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            self._start_all(supervisor, config, options["host"], options["port"])
            supervisor.wait_ready()
            self._print_banner(config, web_url, supervisor)
            self._watch(supervisor, stop)
        except ProcessFailed as exc:
            raise CommandError(str(exc)) from exc
        finally:
            self.stdout.write("Stopping every demo process…")
            supervisor.stop_all()
            self.stdout.write("Stopped.")

    def _start_all(self, supervisor: Supervisor, config: DemoConfig, host: str, port: int) -> None:
        # The links in emails point at this server unless the environment names another.
        site_env = {
            "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", f"http://{host}:{port}"),
            **_licensing_env(config, host, port),
        }
        for panel in config.panels:
            supervisor.start(
                f"simulator-{panel.port}",
                _simulator_argv(panel),
                ready_url=f"http://127.0.0.1:{panel.port}/api/v1/openapi.json",
                extra_env={TOKEN_ENV: panel.token},
            )
        supervisor.start(
            "web",
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "runserver",
                "--noreload",
                f"{host}:{port}",
            ],
            ready_url=f"http://{_loopback(host)}:{port}/healthz",
            ready_marker=b'"status": "ok"',  # the portal's own answer, not another program's
            extra_env={**site_env, **DEMO_SHOP_ENV},
        )
        # The worker's first licence check goes online to this web server: have it answer first.
        supervisor.wait_ready()
        supervisor.start(
            "celery",
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--beat",
             "--loglevel=INFO", "--concurrency=2",
             f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"],
            extra_env=site_env,
        )  # fmt: skip

    def _watch(self, supervisor: Supervisor, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            exited = supervisor.first_exited()
            if exited:
                raise ProcessFailed(f"{exited.name} stopped unexpectedly:\n{exited.log_tail()}")

    def _print_banner(self, config: DemoConfig, web_url: str, supervisor: Supervisor) -> None:
        lines = [
            "",
            "The VPN portal demo is running.",
            f"  Admin:        {web_url}/admin/   login {config.admin_username} / "
            f"{config.admin_password}",
            f"  Storefront:   {web_url}/   (new customers sign up at {web_url}/accounts/signup/)",
            f"  Client area:  {web_url}/services/   login {config.customer_username} / "
            f"{config.customer_password}",
            f"  Emails:       {web_url}/admin/notifications/emailrecord/ (delivered as files "
            f"to {settings.EMAIL_FILE_PATH}/ unless EMAIL_HOST is set)",
            f"  API:          {web_url}/api/docs/ (Swagger UI); make a token at "
            f"{web_url}/account/api-tokens/",
            f"  Health:       {web_url}/healthz   (/metrics is off until METRICS_TOKEN or "
            "METRICS_ALLOWED_IPS is set)",
        ]
        lines += [
            f"  Panel:        {panel.name} http://127.0.0.1:{panel.port}/api/v1/ "
            f"(token in {demo_config_path()})"
            for panel in config.panels
        ]
        lines += [f"  Logs:         {supervisor.log_dir}/", "Press Ctrl-C to stop everything.", ""]
        self.stdout.write("\n".join(lines))


def _licensing_env(config: DemoConfig, host: str, port: int) -> dict[str, str]:
    """The demo trusts its own licence issuer (seed_demo made it) and is its own licence server,
    so a product's check goes online to this web server's /licensing/verify/ — unless the
    environment names other keys or another server."""
    if not config.licence_public_key:
        return {}
    local = _loopback(host)
    return {
        "LICENSING_PUBLIC_KEYS": os.environ.get("LICENSING_PUBLIC_KEYS")
        or config.licence_public_key,
        "LICENSING_SERVER_URL": os.environ.get("LICENSING_SERVER_URL")
        or f"http://{local}:{port}/licensing/verify/",
    }


def _loopback(host: str) -> str:
    """The address to reach a server bound to ``host`` from this machine (URL-ready)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - compared only
    return f"[{local}]" if ":" in local else local


def _refuse_a_panels_port(config: DemoConfig, port: int) -> None:
    """The web server cannot share a port with a simulated panel: say so before starting."""
    for panel in config.panels:
        if panel.port == port:
            used = ", ".join(str(p.port) for p in config.panels)
            raise CommandError(
                f"Port {port} is taken by the demo's simulated panel {panel.name} (the panels "
                f"use {used}); choose another port, e.g. --port 8000."
            )


def _simulator_argv(panel: DemoPanel) -> list[str]:
    argv = [
        sys.executable, "-m", "vpnpanel.simulator",
        "--host", "127.0.0.1", "--port", str(panel.port),
        "--data-dir", str(panel.data_dir),
        "--slots", str(panel.slots), "--seed", str(panel.port),
    ]  # fmt: skip
    for network in panel.networks:
        argv += ["--network", network]
    return argv
