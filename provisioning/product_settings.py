"""The typed schema of a product's settings JSON (the seed's "PUQ VPNcp settings" panel).

One dataclass validates, normalises and serialises the JSON kept in ``Product.settings``; nothing
else reads that JSON directly.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

DEFAULT_NAME_RULE = "vpn-{client_id}-{service_id}-{random_letter_4}"
MAX_MBPS = 10_000
NAME_RULE_MACROS = re.compile(
    r"\{(client_id|service_id|unixtime|year|month|day|hour|minute|second"
    r"|random_digit_(\d+)|random_letter_(\d+))\}"
)
NAME_RULE_LITERAL = re.compile(r"[A-Za-z0-9_-]*")
NETWORK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class Placement(StrEnum):
    ORDERED = "ordered"
    LEAST_FULL = "least_full"


@dataclass(frozen=True, slots=True)
class DeployTarget:
    """One ticked ``server → network`` pair of the product's VPN-networks tree."""

    server_id: int
    network: str


@dataclass(frozen=True, slots=True)
class ProductSettings:
    download_mbps: int = 0
    upload_mbps: int = 0
    client_name_rule: str = DEFAULT_NAME_RULE
    instruction_url: str = ""
    deploy_targets: tuple[DeployTarget, ...] = field(default_factory=tuple)
    placement: Placement = Placement.ORDERED
    metric_download: bool = False
    metric_upload: bool = False

    @classmethod
    def from_json(cls, data: Any) -> ProductSettings:
        """Parse and validate; raises one ValidationError with a message per bad field."""
        if data in (None, ""):
            data = {}
        if not isinstance(data, dict):
            raise ValidationError({"settings": "Product settings must be a JSON object."})
        errors: dict[str, str] = {}
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            errors["settings"] = f"Unknown setting(s): {', '.join(sorted(unknown))}."
        values = {name: _parse_field(name, data, errors) for name in _PARSERS if name in data}
        if errors:
            raise ValidationError(errors)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["deploy_targets"] = [asdict(target) for target in self.deploy_targets]
        data["placement"] = self.placement.value
        return data

    @property
    def metered(self) -> bool:
        return self.metric_download or self.metric_upload


def _parse_field(name: str, data: dict[str, Any], errors: dict[str, str]) -> Any:
    try:
        return _PARSERS[name](data[name])
    except (TypeError, ValueError) as exc:
        errors[name] = str(exc)
        return None


def _mbps(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("Enter a whole number of Mbit/s.")
    try:
        number = int(value)
    except ValueError:
        raise ValueError("Enter a whole number of Mbit/s.") from None
    if not 0 <= number <= MAX_MBPS:
        raise ValueError(f"Must be between 0 (unlimited) and {MAX_MBPS} Mbit/s.")
    return number


def _name_rule(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Enter a client name rule.")
    rule = value.strip()
    literal = NAME_RULE_MACROS.sub("", rule)
    if "{" in literal or "}" in literal:
        raise ValueError("Unknown macro in the name rule.")
    if not NAME_RULE_LITERAL.fullmatch(literal):
        raise ValueError("Outside macros, use only letters, digits, '_' and '-'.")
    for match in NAME_RULE_MACROS.finditer(rule):
        count = match.group(2) or match.group(3)
        if count is not None and not 1 <= int(count) <= 32:
            raise ValueError("Random macros take 1 to 32 characters.")
    return rule


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("Enter a URL.")
    url = value.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValueError("Enter a valid http(s) URL.") from None
    return url


def _targets(value: Any) -> tuple[DeployTarget, ...]:
    if not isinstance(value, list):
        raise ValueError("Deploy targets must be a list of server/network pairs.")
    targets: list[DeployTarget] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"server_id", "network"}:
            raise ValueError("Each deploy target needs exactly server_id and network.")
        server_id, network = item["server_id"], item["network"]
        if isinstance(server_id, bool) or not isinstance(server_id, int) or server_id < 1:
            raise ValueError("A deploy target's server_id must be a positive integer.")
        if not isinstance(network, str) or not NETWORK_NAME.fullmatch(network):
            raise ValueError(f"{network!r} is not a valid network name.")
        target = DeployTarget(server_id, network)
        if target in targets:
            raise ValueError(f"Network {network} on server {server_id} is ticked twice.")
        targets.append(target)
    return tuple(targets)


def _placement(value: Any) -> Placement:
    try:
        return Placement(value)
    except ValueError:
        raise ValueError(f"Choose one of: {', '.join(p.value for p in Placement)}.") from None


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


_PARSERS = {
    "download_mbps": _mbps,
    "upload_mbps": _mbps,
    "client_name_rule": _name_rule,
    "instruction_url": _url,
    "deploy_targets": _targets,
    "placement": _placement,
    "metric_download": _flag,
    "metric_upload": _flag,
}
