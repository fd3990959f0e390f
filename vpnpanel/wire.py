"""The panel's wire format: envelopes, status codes and field names (see docs/panel-wire.md).

This is the only module that knows how a panel spells things. It accepts the current (v2) envelope
``{"result": "OK", "message": ..., "data": ...}`` and the old (v1) one ``{"status": "success",
"msg": ..., "error": ""}``, numbers sent as strings, flags sent as ``"1"``/``"true"``/``"on"``, the
old ``allowed_IPs`` field and the other old-panel variants listed in that document. When a real
panel differs, change this module, the simulator and the document — nothing else.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from .exceptions import (
    PanelAuthError,
    PanelBadResponse,
    PanelError,
    PanelNotFound,
    PanelRejected,
)
from .redaction import is_sensitive_key, redact, scrub_text
from .types import (
    ClientStatus,
    LicenseInfo,
    Network,
    OnlineSession,
    Protocol,
    SystemStatus,
    TrafficDay,
    VpnClient,
)

T = TypeVar("T")

API_PREFIX = "/api/v1/"
QR_PREFIX = "data:image/png;base64,"
SNIPPET_LENGTH = 120
MESSAGE_LENGTH = 300

_OK_WORDS = frozenset({"ok", "success"})
_ERROR_WORDS = frozenset({"error", "fail", "failed", "failure"})
_TRUE_WORDS = frozenset({"1", "true", "on", "yes", "y", "enable", "enabled"})
_FALSE_WORDS = frozenset({"0", "false", "off", "no", "n", "disable", "disabled", ""})
_NO_VALUE_WORDS = frozenset({"", "0", "(none)", "none", "null", "0000-00-00"})
_AUTH_STATUSES = frozenset({401, 403})
_NOT_JSON = object()
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True, slots=True)
class CallContext:
    """Which panel and call an answer belongs to, so that errors can say so."""

    panel: str = ""
    method: str = ""
    path: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def subject(self) -> str:
        return f"Panel {self.panel}" if self.panel else "The panel"

    @property
    def call(self) -> str:
        return f"{self.method} {self.path}".strip() or "the call"

    def error_kwargs(self, status: int | None) -> dict[str, Any]:
        return {"status": status, "method": self.method, "path": self.path}

    def clean(self, text: str, limit: int) -> str:
        """Make panel-supplied text safe and short enough for an error message."""
        text = "".join(char if char.isprintable() else " " for char in _TAG.sub(" ", text))
        text = _SPACE.sub(" ", text).strip()
        text = scrub_text(text, self.secrets)
        return text if len(text) <= limit else f"{text[: limit - 1]}…"


# Envelope and status handling ----------------------------------------------------------------


def parse_answer(
    http_status: int,
    body: bytes | str | Any,
    parse: Callable[[Any], T],
    context: CallContext | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    enveloped: bool = True,
) -> T:
    """Unwrap an answer and parse its payload; a wrong shape becomes a contextual error."""
    ctx = context or CallContext()
    payload = unwrap(http_status, body, ctx, headers=headers, enveloped=enveloped)
    try:
        return parse(payload)
    except PanelBadResponse as exc:
        raise PanelBadResponse(
            f"{ctx.subject} sent an unexpected answer to {ctx.call}: {exc.message}",
            transient=False,
            **ctx.error_kwargs(http_status),
        ) from None


def unwrap(
    http_status: int,
    body: bytes | str | Any,
    context: CallContext | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    enveloped: bool = True,
) -> Any:
    """Return the payload of a successful answer or raise the matching :class:`PanelError`.

    ``body`` is the raw body (bytes or text) or an already decoded JSON value. The HTTP status is
    only a hint: a panel may report an error with 200, so the envelope decides. With
    ``enveloped=False`` (the OpenAPI document) a 2xx JSON object is returned as it is.
    """
    ctx = context or CallContext()
    header = {key.lower(): value for key, value in (headers or {}).items()}
    if 300 <= http_status < 400:
        raise _redirected(http_status, header.get("location", ""), ctx)
    if http_status == 204:
        return None
    retry_after = parse_retry_after(header.get("retry-after")) if _transient(http_status) else None
    document = _decode(body)
    if document is _NOT_JSON:
        raise _not_json(http_status, body, ctx, retry_after)
    if not enveloped and _is_success(http_status) and isinstance(document, Mapping):
        return document
    state = _envelope_state(document)
    if state == "ok" and _is_success(http_status):
        return _payload(document)
    if state == "error":
        raise _api_error(http_status, document, ctx, retry_after)
    raise _not_envelope(http_status, document, ctx, retry_after)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _transient(http_status: int) -> bool:
    return http_status >= 500 or http_status == 429


def _is_success(http_status: int) -> bool:
    return 200 <= http_status < 300


def _decode(body: bytes | str | Any) -> Any:
    if not isinstance(body, bytes | bytearray | str):
        return body
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return _NOT_JSON


def _envelope_state(document: Any) -> str | None:
    if not isinstance(document, Mapping):
        return None
    for key in ("result", "status"):
        word = document.get(key)
        if isinstance(word, str) and word.strip().lower() in _OK_WORDS:
            return "ok"
        if isinstance(word, str) and word.strip().lower() in _ERROR_WORDS:
            return "error"
    return None


def _payload(document: Mapping[str, Any]) -> Any:
    if "data" in document:
        return document["data"]
    return document.get("msg")


def _error_text(document: Mapping[str, Any]) -> str:
    for key in ("message", "error", "msg"):
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _field_errors(document: Mapping[str, Any]) -> dict[str, str]:
    errors = document.get("errors")
    if not isinstance(errors, Mapping):
        return {}
    return {str(key): _join(value) for key, value in errors.items()}


def _join(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return str(value)


def _api_error(
    http_status: int, document: Mapping[str, Any], ctx: CallContext, retry_after: float | None
) -> PanelError:
    text = ctx.clean(_error_text(document), MESSAGE_LENGTH)
    fields = {
        key: ctx.clean(value, MESSAGE_LENGTH) for key, value in _field_errors(document).items()
    }
    kwargs = ctx.error_kwargs(http_status) | {"api_message": text}
    lowered = text.lower()
    if http_status in _AUTH_STATUSES or "not authorized" in lowered or "unauthorized" in lowered:
        return PanelAuthError(_auth_message(ctx, text or f"HTTP {http_status}"), **kwargs)
    if http_status == 404 or lowered.endswith("not found"):
        return PanelNotFound(
            f"{ctx.subject} has no such object for {ctx.call}: {text or 'not found'}", **kwargs
        )
    detail = _rejection_detail(text, fields)
    if _transient(http_status):
        message = f"{ctx.subject} failed {ctx.call} (HTTP {http_status}): {detail}"
        return PanelRejected(
            message, field_errors=fields, transient=True, retry_after=retry_after, **kwargs
        )
    message = f"{ctx.subject} rejected {ctx.call}: {detail}"
    return PanelRejected(message, field_errors=fields, transient=False, **kwargs)


def _rejection_detail(text: str, fields: Mapping[str, str]) -> str:
    extra = "; ".join(f"{key}: {value}" for key, value in fields.items() if value != text)
    if text and extra:
        return f"{text} ({extra})"
    return text or extra or "no reason given"


def _auth_message(ctx: CallContext, reason: str) -> str:
    return (
        f"{ctx.subject} refused the API token for {ctx.call}: {reason}. "
        "Check the token and that its panel user may use this endpoint."
    )


def _redirected(http_status: int, location: str, ctx: CallContext) -> PanelBadResponse:
    target = ctx.clean(location, SNIPPET_LENGTH) or "another address"
    return PanelBadResponse(
        f"{ctx.subject} redirected {ctx.call} to {target} (HTTP {http_status}). Redirects are "
        "not followed; check the server's scheme (Secure), host name and port.",
        transient=False,
        **ctx.error_kwargs(http_status),
    )


def _not_json(
    http_status: int, body: Any, ctx: CallContext, retry_after: float | None
) -> PanelError:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body)
    if http_status in _AUTH_STATUSES:
        return PanelAuthError(
            _auth_message(ctx, f"HTTP {http_status}"), **ctx.error_kwargs(http_status)
        )
    kind = "an HTML page" if "<html" in text[:500].lower() else "a non-JSON answer"
    snippet = ctx.clean(text, SNIPPET_LENGTH) or "empty body"
    hint = " Check that the host and port point at the panel's API." if http_status == 404 else ""
    # A success status with a body that is not JSON is a panel (or a proxy) briefly broken, not a
    # refusal: worth asking again, like a 5xx. A 4xx page (wrong host or port) is not.
    return PanelBadResponse(
        f"{ctx.subject} answered {ctx.call} with {kind} (HTTP {http_status}): {snippet!r}.{hint}",
        transient=_transient(http_status) or _is_success(http_status),
        retry_after=retry_after,
        **ctx.error_kwargs(http_status),
    )


def _not_envelope(
    http_status: int, document: Any, ctx: CallContext, retry_after: float | None
) -> PanelError:
    if http_status in _AUTH_STATUSES:
        return PanelAuthError(
            _auth_message(ctx, f"HTTP {http_status}"), **ctx.error_kwargs(http_status)
        )
    snippet = ctx.clean(json.dumps(redact(document), ensure_ascii=False), SNIPPET_LENGTH)
    what = (
        "a success envelope"
        if _envelope_state(document) == "ok"
        else "JSON without a panel envelope"
    )
    return PanelBadResponse(
        f"{ctx.subject} answered {ctx.call} with {what} (HTTP {http_status}): {snippet}",
        transient=_transient(http_status),
        retry_after=retry_after,
        **ctx.error_kwargs(http_status),
    )


# Payload parsers -----------------------------------------------------------------------------
# Each raises a context-free PanelBadResponse on a wrong shape; parse_answer adds the context.


def parse_system_status(payload: Any) -> SystemStatus:
    obj = _object(payload, "the system status")
    return SystemStatus(
        version=_text(obj, "version"),
        accounts_used=_int(obj, "count_accounts"),
        accounts_total=_int(obj, "count_accounts_available"),
        license_valid=_flag(obj, "license_valid") if obj.get("license_valid") is not None else None,
    )


def parse_license(payload: Any) -> LicenseInfo:
    obj = _object(payload, "the licence")
    return LicenseInfo(
        valid=_flag(obj, "valid"),
        accounts=_optional_int(obj, "accounts"),
        expiration_date=_optional_date(obj, "expiration_date"),
    )


def parse_network(payload: Any) -> Network:
    obj = _object(payload, "a network")
    return Network(
        name=_required_text(obj, "name"),
        description=_text(obj, "description"),
        subnet=_text(obj, "subnet"),
        wireguard=_flag(obj, "wireguard"),
        amneziawg=_flag(obj, "amneziawg"),
        openvpn=_flag(obj, "openvpn"),
        ikev2=_flag(obj, "ikev2"),
        bandwidth_download=_int(obj, "bandwidth_download", 0),
        bandwidth_upload=_int(obj, "bandwidth_upload", 0),
        clients=_int(obj, "clients", 0),
    )


def parse_networks(payload: Any) -> list[Network]:
    return [parse_network(item) for item in _records(payload, "networks")]


def parse_client(payload: Any) -> VpnClient:
    obj = _object(payload, "a client")
    return VpnClient(
        name=_required_text(obj, "name"),
        network_name=_first_text(obj, "network_name", "wg_name"),
        ipv4=_host_address(_first_text(obj, "ipv4", "allowed_IPs", "allowed_ips")),
        ipv6=_host_address(_first_text(obj, "ipv6", "allowed_IPs_ipv6", "allowed_ips_ipv6")),
        username=_text(obj, "username"),
        password=_text(obj, "password"),
        status=_client_status(obj),
        b_download=_int(obj, "b_download", 0),
        b_upload=_int(obj, "b_upload", 0),
        public_key=_text(obj, "public_key"),
    )


def parse_clients(payload: Any) -> list[VpnClient]:
    return [parse_client(item) for item in _records(payload, "clients")]


def parse_available_ips(payload: Any) -> list[str]:
    if payload is None:
        return []
    if not isinstance(payload, list) or not all(isinstance(ip, str) for ip in payload):
        raise _shape(f"expected a list of IP addresses, got {_kind(payload)}")
    return [_host_address(ip.strip()) for ip in payload]


def parse_text(payload: Any) -> str:
    """A config or profile: the payload is the text itself."""
    if not isinstance(payload, str) or not payload.strip():
        raise _shape(f"expected a non-empty text, got {_kind(payload)}")
    return payload


def parse_profile(payload: Any) -> str:
    """An IKEv2 profile is JSON text; some panels send the JSON object itself."""
    if isinstance(payload, Mapping):
        return json.dumps(payload, indent=2, ensure_ascii=False)
    return parse_text(payload)


def parse_qr(payload: Any) -> str:
    """A PNG QR code as a data URI, adding the prefix when the panel sent bare base64."""
    text = parse_text(payload).strip()
    return text if text.startswith("data:") else f"{QR_PREFIX}{text}"


def parse_otl(payload: Any) -> str:
    text = parse_text(payload).strip()
    if not text.startswith(("https://", "http://")):
        raise _shape("expected the one-time link as an http(s) URL")
    return text


def parse_online_sessions(payload: Any) -> list[OnlineSession]:
    """Sessions of every client on the panel; ``[]`` (or nothing) means nobody is online."""
    if payload is None or payload == "":
        return []
    return [parse_online_session(item) for item in _records(payload, "online sessions")]


def parse_online_session(payload: Any) -> OnlineSession:
    obj = _object(payload, "an online session")
    endpoint = _text(obj, "endpoint")
    return OnlineSession(
        client_name=_required_text(obj, "name"),
        protocol=_protocol(obj),
        network_name=_first_text(obj, "network_name", "wg_name"),
        ip=_host_address(_first_text(obj, "ip", "allowed_ips", "allowed_IPs")),
        endpoint="" if endpoint.lower() in _NO_VALUE_WORDS else endpoint,
        latest_handshake=_timestamp(obj, "latest_handshake"),
        transfer_rx=_int(obj, "transfer_rx", 0),
        transfer_tx=_int(obj, "transfer_tx", 0),
    )


def parse_traffic(payload: Any) -> list[TrafficDay]:
    if not isinstance(payload, list):
        raise _shape(f"expected a list of traffic rows, got {_kind(payload)}")
    return [_traffic_day(_object(row, "a traffic row")) for row in payload]


def parse_nothing(payload: Any) -> None:
    """For calls whose success answer carries nothing we use (``DELETE``)."""
    return None


def parse_document(payload: Any) -> dict[str, Any]:
    return dict(_object(payload, "a JSON document"))


def _traffic_day(obj: Mapping[str, Any]) -> TrafficDay:
    day = _optional_date(obj, "date")
    if day is None:
        raise _shape("a traffic row has no date")
    return TrafficDay(
        day=day,
        download=_int(obj, "traffic_download", 0),
        upload=_int(obj, "traffic_upload", 0),
    )


# Field helpers -------------------------------------------------------------------------------

_MISSING: Any = object()


def _shape(message: str) -> PanelBadResponse:
    return PanelBadResponse(message, transient=False)


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def _object(payload: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise _shape(f"expected {what} as a JSON object, got {_kind(payload)}")
    return payload


def _records(payload: Any, what: str) -> list[Mapping[str, Any]]:
    """A list of objects, or an object keyed by name (old panels) with the key as the name."""
    if isinstance(payload, list):
        return [_object(item, f"each of the {what}") for item in payload]
    if isinstance(payload, Mapping):
        records = []
        for key, item in payload.items():
            obj = _object(item, f"each of the {what}")
            records.append(obj if obj.get("name") else {**obj, "name": key})
        return records
    raise _shape(f"expected a list of {what}, got {_kind(payload)}")


def _describe(key: str, value: Any) -> str:
    if is_sensitive_key(key):
        return _kind(value)
    return repr(value) if len(repr(value)) <= 40 else _kind(value)


def _text(obj: Mapping[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _shape(f"field {key!r} should be text, got {_kind(value)}")


def _first_text(obj: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        if text := _text(obj, key):
            return text
    return ""


def _required_text(obj: Mapping[str, Any], key: str) -> str:
    text = _text(obj, key)
    if not text:
        raise _shape(f"field {key!r} is missing")
    return text


def _int(obj: Mapping[str, Any], key: str, default: int = _MISSING) -> int:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is _MISSING:
            raise _shape(f"field {key!r} is missing")
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise _shape(f"field {key!r} should be a whole number, got {_describe(key, value)}")


def _optional_int(obj: Mapping[str, Any], key: str) -> int | None:
    return None if obj.get(key) in (None, "") else _int(obj, key)


def _flag(obj: Mapping[str, Any], key: str) -> bool:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE_WORDS:
        return False
    raise _shape(f"field {key!r} should be a yes/no flag, got {_describe(key, value)}")


def _optional_date(obj: Mapping[str, Any], key: str) -> date | None:
    value = _text(obj, key)
    if value.lower() in _NO_VALUE_WORDS:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _shape(f"field {key!r} should be a date, got {_describe(key, value)}") from None


def _timestamp(obj: Mapping[str, Any], key: str) -> datetime | None:
    """Unix seconds (``0`` = never) or an ISO 8601 string; always UTC-aware."""
    value = _text(obj, key)
    if value.lower() in _NO_VALUE_WORDS:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    try:
        if seconds is not None:
            return None if seconds <= 0 else datetime.fromtimestamp(seconds, UTC)
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise _shape(f"field {key!r} should be a time, got {_describe(key, value)}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _client_status(obj: Mapping[str, Any]) -> ClientStatus:
    """A missing status is the panel's default for a new client (some create answers omit it)."""
    value = _text(obj, "status").lower()
    if not value:
        return ClientStatus.ENABLE
    try:
        return ClientStatus(value)
    except ValueError:
        raise _shape(f"field 'status' should be enable or disable, got {value!r}") from None


def _protocol(obj: Mapping[str, Any]) -> Protocol | str:
    """Old panels only spoke WireGuard and did not name the protocol."""
    value = _text(obj, "protocol").lower()
    if not value:
        return Protocol.WIREGUARD
    try:
        return Protocol(value)
    except ValueError:
        return value


def _host_address(value: str) -> str:
    """``10.0.0.5/32`` → ``10.0.0.5``: old panels sent a host route where a host is meant."""
    for suffix in ("/32", "/128"):
        if value.endswith(suffix):
            return value[: -len(suffix)]
    return value
