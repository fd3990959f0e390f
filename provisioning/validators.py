"""Validators for provisioning fields, shared by the models and the admin forms.

A server's host is pasted by staff and becomes the host part of the panel URL that receives the
Bearer token (reliability.md, class 19). It must be a bare host: a scheme, user name, port, path,
query or fragment in it would either break the URL built by ``vpnpanel.build_base_url`` or
redirect the token somewhere the port field and the admin never showed. Whatever passes here is
also accepted by that function (it is stricter: no ``_``, empty labels or IPv6 zone ids).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from django.core.exceptions import ValidationError

MAX_HOST_NAME: Final = 253
HOST_ERROR: Final = (
    "Enter only a host name (letters, digits and hyphens, with dots between, e.g. "
    "vpn-fra.example.com; an internationalised name in its xn-- form) or an IP address. "
    "No http://, user name, port, path, query or spaces: the port has its own field."
)
HOST_HELP: Final = (
    "The panel's host name, e.g. vpn-fra.example.com, or its IP address: no http:// and no port "
    "(the port has its own field)."
)

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# A last label like these makes URL parsers and getaddrinfo read the whole name as an IPv4 address
# ("127.1", "2130706433", "0x7f000001"): an address in disguise, not a host name.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


def validate_panel_host(value: str) -> None:
    """Accept a DNS host name or an IP address literal (IPv6 with or without brackets)."""
    if not (_is_ip_literal(value) or _is_host_name(value)):
        raise ValidationError(HOST_ERROR, code="invalid_host")


def _is_ip_literal(value: str) -> bool:
    bracketed = value.startswith("[") and value.endswith("]")
    try:
        address = ipaddress.ip_address(value[1:-1] if bracketed else value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return address.scope_id is None
    return not bracketed


def _is_host_name(value: str) -> bool:
    if not value or len(value) > MAX_HOST_NAME:
        return False
    labels = value.split(".")
    return all(_LABEL.fullmatch(label) for label in labels) and not _NUMERIC_LABEL.fullmatch(
        labels[-1]
    )
