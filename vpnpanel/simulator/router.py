"""The route table type shared by the API, the ``/_sim/`` knobs and the OpenAPI generator."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from vpnpanel.simulator.errors import PanelError

PARAM_RE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Field:
    """One request body field, as documented in openapi.json."""

    name: str
    type: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    method: str
    params: dict[str, str]
    body: dict[str, Any]
    base_url: str


@dataclass(frozen=True)
class Reply:
    data: Any = None
    message: str = "Success"
    status: int = 200
    raw: bool = False


Handler = Callable[[Any, Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    summary: str
    response: str = "Null"
    body: tuple[Field, ...] = ()
    auth: bool = True
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        literal = re.escape(self.template).replace(r"\{", "{").replace(r"\}", "}")
        regex = PARAM_RE.sub(r"(?P<\1>[^/]+)", literal)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def parameters(self) -> list[str]:
        return PARAM_RE.findall(self.template)


class Router:
    """First match wins, so literal paths (``client/online``) go before ``client/{name}``."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.method == method:
                return route, {key: unquote(value) for key, value in match.groupdict().items()}
            allowed = True
        if allowed:
            raise PanelError("Method not allowed", status=405)
        raise PanelError("Not found", status=404)
