"""The demo installation that ``make run`` brings up: who logs in and which simulated panels run.

Its state lives in ``var/demo.json`` (git-ignored): random passwords and panel tokens are made on
the first seed and reused afterwards, so the printed logins stay valid across runs.
"""

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class DemoPanel:
    name: str
    port: int
    token: str
    networks: list[str]
    slots: int = 50

    @property
    def data_dir(self) -> Path:
        return Path(settings.VAR_DIR) / "simulators" / f"panel-{self.port}"


@dataclass(frozen=True)
class DemoConfig:
    admin_username: str
    admin_password: str
    customer_username: str
    customer_password: str
    group_name: str
    panels: list[DemoPanel] = field(default_factory=list)
    #: The demo licence issuer's public key (PEM), which ``rundemo`` makes the demo trust.
    licence_public_key: str = ""

    def save(self) -> None:
        demo_config_path().write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls) -> "DemoConfig":
        path = demo_config_path()
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `manage.py seed_demo` first.")
        raw = json.loads(path.read_text())
        panels = [DemoPanel(**panel) for panel in raw.pop("panels")]
        return cls(**raw, panels=panels)


def demo_config_path() -> Path:
    return Path(settings.VAR_DIR) / "demo.json"


def load_or_create_demo_config(*, first_panel_port: int) -> DemoConfig:
    if demo_config_path().exists():
        return DemoConfig.load()
    config = DemoConfig(
        admin_username="admin",
        admin_password=_password(),
        customer_username="customer",
        customer_password=_password(),
        group_name="Demo VPN",
        panels=[
            DemoPanel(
                name="Frankfurt (simulated)",
                port=first_panel_port,
                token=secrets.token_urlsafe(32),
                networks=[
                    "fra-main=10.10.0.0/24:wireguard,openvpn,ikev2",
                    "fra-wg=10.10.1.0/24:wireguard,amneziawg",
                ],
            ),
            DemoPanel(
                name="Amsterdam (simulated)",
                port=first_panel_port + 1,
                token=secrets.token_urlsafe(32),
                networks=["ams-main=10.20.0.0/24:wireguard,openvpn"],
                slots=10,
            ),
        ],
    )
    config.save()
    return config


def _password() -> str:
    return secrets.token_urlsafe(12)
