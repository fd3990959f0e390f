"""HTTP client for one PUQVPNCP panel: the only code in the project that speaks to a panel.

Every call has a forced timeout, never follows redirects, and is retried with backoff only when
repeating it is safe (GET, PUT, DELETE) and the failure is transient. Each attempt is reported as a
redacted :class:`CallRecord` to ``on_call`` and to the ``vpnpanel`` logger at DEBUG.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import logging
import re
import time
from collections.abc import Callable
from importlib import metadata
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError

from . import wire
from .exceptions import PanelBadResponse, PanelError, PanelNotFound, PanelUnreachable
from .policy import RetryPolicy, Timeouts
from .redaction import redact
from .types import (
    CallRecord,
    ClientStatus,
    LicenseInfo,
    Network,
    OnlineSession,
    SystemStatus,
    TrafficDay,
    VpnClient,
)

__all__ = ["PanelClient", "RetryPolicy", "Timeouts", "build_base_url"]

T = TypeVar("T")
# What a call with ``missing_ok`` returns for a "not found" answer.
_MISSING: Final = object()

logger = logging.getLogger("vpnpanel")

REPEATABLE_METHODS: Final = frozenset({"GET", "PUT", "DELETE"})
POOL_SIZE: Final = 10
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?")
_ERRNO = re.compile(r"\[(?:Errno -?\d+|SSL: \w+)\] ([^'\"()\]]+)")
_POOL_PREFIX = re.compile(r"^\w*ConnectionPool\([^)]*\): Max retries exceeded with url: \S+ ")
_OBJECT_REPR = re.compile(r"<[^<>]* object at 0x[0-9a-f]+>:? ?")
_TOKEN = re.compile(r"[\x21-\x7e]+")
_MAYBE_APPLIED: Final = " The request may have been applied; check the panel."
# Markers in an SSLError's text (lower case, "_" and "-" read as spaces). Anything else (an EOF or a
# reset during the handshake) is a network blip and transient.
_TLS_CERTIFICATE_MARKERS: Final = (
    "certificate",
    "hostname mismatch",
    "doesn't match",
    "unknown ca",
)
_TLS_PROTOCOL_MARKERS: Final = (
    "wrong version number",
    "unknown protocol",
    "unsupported protocol",
    "no protocols available",
    "record layer failure",
    "packet length too long",
    "alert protocol version",
    "alert handshake failure",
)


def _user_agent() -> str:
    try:
        version = metadata.version("vpn-portal")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"vpn-portal/{version}"


USER_AGENT: Final = _user_agent()
_HEADERS: Final = {"Accept": "application/json", "User-Agent": USER_AGENT}


class BearerAuth(requests.auth.AuthBase):
    """Adds the token per request; explicit auth also stops requests from applying ``~/.netrc``.

    The token is checked here, once: http.client would otherwise refuse it on every call with an
    error that quotes the whole header, token included.
    """

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token:
            raise ValueError("The panel API token is empty")
        if not _TOKEN.fullmatch(token):
            raise ValueError(
                "The panel API token contains characters that cannot be sent in an HTTP header"
            )
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def build_session(pool_size: int = POOL_SIZE) -> requests.Session:
    """A pooled session without urllib3's own retries: the retry policy lives in PanelClient."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def build_base_url(
    *, hostname: str = "", ip: str = "", port: int | None = None, secure: bool
) -> str:
    """The panel root URL from a server record: https when Secure, hostname else IP, port if set."""
    host = _host(hostname.strip() or ip.strip())
    scheme = "https" if secure else "http"
    if port is None:
        return f"{scheme}://{host}"
    if not 1 <= port <= 65535:
        raise ValueError(f"Port {port} is out of range (1-65535)")
    return f"{scheme}://{host}:{port}"


def _host(value: str) -> str:
    if not value:
        raise ValueError("A panel needs a hostname or an IP address")
    try:
        address = ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
    except ValueError:
        if not _HOSTNAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid hostname or IP address") from None
        return value.lower()
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def _normalize_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Panel base URL must be an http(s) URL with a host, got {base_url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("Panel base URL must not contain credentials, a query or a fragment")
    path = parts.path.rstrip("/").removesuffix(wire.API_PREFIX.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}{path}"


def _segment(value: str) -> str:
    """A client or network name as one URL path segment."""
    if not isinstance(value, str) or value.strip() in ("", ".", ".."):
        raise ValueError(f"Invalid name for a panel URL: {value!r}")
    return quote(value, safe="")


def endpoint_template(path: str) -> str:
    """The endpoint of a call's ``path`` with its names and numbers as placeholders, such as
    ``client/{name}/config/text``: a label that stays the same for every client (metrics)."""
    parts = path.split("/")
    if parts[0] in ("client", "network") and len(parts) > 1 and parts != ["client", "online"]:
        parts[1] = "{name}"
    if parts[0] == "client" and len(parts) == 5 and parts[2] == "traffic":
        parts[3:] = ["{year}", "{month}"]
    return "/".join(parts)


def _without_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class PanelClient:
    """Typed access to one panel's REST API; one instance per panel connection.

    ``on_call`` receives a redacted :class:`CallRecord` for every attempt; ``sleep`` is injectable
    so that tests never wait for a backoff.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        name: str = "",
        verify_tls: bool = True,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = _normalize_base_url(base_url)
        self.name = name
        self.verify_tls = verify_tls
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._auth = BearerAuth(token)
        self._on_call = on_call
        self._session = session or build_session()
        self._owns_session = session is None
        self._sleep = sleep

    @classmethod
    def from_parts(
        cls,
        *,
        hostname: str = "",
        ip: str = "",
        port: int | None = None,
        secure: bool,
        token: str,
        **kwargs: Any,
    ) -> PanelClient:
        base_url = build_base_url(hostname=hostname, ip=ip, port=port, secure=secure)
        return cls(base_url, token, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.base_url})" if self.name else self.base_url

    def __repr__(self) -> str:
        return f"<PanelClient {self.name!r} {self.base_url}>"

    def __enter__(self) -> PanelClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool, unless the session was passed in (its owner closes it)."""
        if self._owns_session:
            self._session.close()

    # Endpoints ---------------------------------------------------------------------------------

    def system_status(self) -> SystemStatus:
        return self._call("GET", "system/status", wire.parse_system_status)

    def license(self) -> LicenseInfo:
        return self._call("GET", "license", wire.parse_license)

    def networks(self) -> list[Network]:
        return self._call("GET", "network", wire.parse_networks)

    def network(self, name: str) -> Network:
        return self._call("GET", f"network/{_segment(name)}", wire.parse_network)

    def available_ips(self, network_name: str) -> list[str]:
        """Free IPv4 addresses; ``[]`` means the pool is full (some panels raise instead)."""
        path = f"network/{_segment(network_name)}/available_ip"
        return self._call("GET", path, wire.parse_available_ips)

    def clients(self) -> list[VpnClient]:
        return self._call("GET", "client", wire.parse_clients)

    def create_client(
        self,
        *,
        network_name: str | None = None,
        name: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> VpnClient:
        """Create a client; the panel fills in what is omitted. Never retried: not idempotent."""
        body = _without_none(
            network_name=network_name, name=name, username=username, password=password
        )
        return self._call("POST", "client", wire.parse_client, body=body)

    def update_client(
        self,
        name: str,
        *,
        b_download: int | None = None,
        b_upload: int | None = None,
        status: ClientStatus | str | None = None,
        password: str | None = None,
    ) -> VpnClient:
        """Change bandwidth (Mbit/s, 0 = unlimited), status or password; disable disconnects."""
        changes = _without_none(
            b_download=b_download,
            b_upload=b_upload,
            status=None if status is None else ClientStatus(str(status).lower()).value,
            password=password,
        )
        if not changes:
            raise ValueError("update_client needs at least one field to change")
        return self._call("PUT", f"client/{_segment(name)}", wire.parse_client, body=changes)

    def delete_client(self, name: str) -> None:
        """Delete a client. Raises PanelNotFound when it is already gone (callers: that's done)."""
        self._call("DELETE", f"client/{_segment(name)}", wire.parse_nothing)

    def delete_client_if_present(self, name: str) -> bool:
        """Delete a client; False when it was already gone (an answer here, not an error)."""
        path = f"client/{_segment(name)}"
        return self._call("DELETE", path, wire.parse_nothing, missing_ok=True) is not _MISSING

    def get_client(self, name: str) -> VpnClient:
        return self._call("GET", f"client/{_segment(name)}", wire.parse_client)

    def find_client(self, name: str) -> VpnClient | None:
        """The client, or None when the panel has none of that name (an answer, not an error:
        its call record says ``ok``)."""
        found = self._call("GET", f"client/{_segment(name)}", wire.parse_client, missing_ok=True)
        return None if found is _MISSING else found

    def wireguard_config(self, name: str) -> str:
        return self._call("GET", f"client/{_segment(name)}/config/text", wire.parse_text)

    def wireguard_qr(self, name: str) -> str:
        return self._call("GET", f"client/{_segment(name)}/config/qr", wire.parse_qr)

    def amneziawg_config(self, name: str) -> str:
        return self._call("GET", f"client/{_segment(name)}/amneziawg/config", wire.parse_text)

    def amneziawg_qr(self, name: str) -> str:
        return self._call("GET", f"client/{_segment(name)}/amneziawg/qr", wire.parse_qr)

    def openvpn_profile(self, name: str) -> str:
        return self._call("GET", f"client/{_segment(name)}/openvpn/profile", wire.parse_text)

    def ikev2_profile(self, name: str) -> str:
        return self._call("GET", f"client/{_segment(name)}/ikev2/profile", wire.parse_profile)

    def create_otl(self, name: str) -> str:
        """A single-use self-service link. Never retried: each call spends a link."""
        return self._call("POST", f"client/{_segment(name)}/otl", wire.parse_otl)

    def online_sessions(self) -> list[OnlineSession]:
        """Live sessions of every client on this panel; ``[]`` means nobody is online."""
        return self._call("GET", "client/online", wire.parse_online_sessions)

    def traffic(self, name: str, year: int, month: int) -> list[TrafficDay]:
        """Per-day traffic of one client for a calendar month (the month is sent unpadded)."""
        if not 1 <= month <= 12:
            raise ValueError(f"Month must be 1-12, got {month}")
        path = f"client/{_segment(name)}/traffic/{int(year)}/{int(month)}"
        return self._call("GET", path, wire.parse_traffic)

    def openapi(self) -> dict[str, Any]:
        """The panel's own OpenAPI document (not wrapped in an envelope)."""
        return self._call("GET", "openapi.json", wire.parse_document, enveloped=False)

    # Transport ---------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        body: dict[str, Any] | None = None,
        enveloped: bool = True,
        missing_ok: bool = False,
    ) -> T:
        """``missing_ok``: a "not found" answer returns ``_MISSING`` and is recorded as ok."""
        attempts = self.retry.attempts if method in REPEATABLE_METHODS else 1
        for attempt in itertools.count(1):
            try:
                return self._attempt(method, path, parse, body, attempt, enveloped, missing_ok)
            except PanelError as exc:
                delay = self._retry_delay(exc, attempt, attempts)
                if delay is None:
                    raise
                logger.info("Retrying %s %s in %.2fs after: %s", method, path, delay, exc)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _retry_delay(self, exc: PanelError, attempt: int, attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now.

        A Retry-After longer than ``max_backoff`` is not waited out in-process: the error is
        raised with ``retry_after`` set so that the task layer can schedule the retry.
        """
        if exc.permanent or attempt >= attempts:
            return None
        if exc.retry_after is None:
            return self.retry.delay(attempt)
        return exc.retry_after if exc.retry_after <= self.retry.max_backoff else None

    def _attempt(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        body: dict[str, Any] | None,
        attempt: int,
        enveloped: bool,
        missing_ok: bool = False,
    ) -> T:
        ctx = wire.CallContext(self.label, method, path, secrets=(self._auth.token,))
        started = time.monotonic()
        response: requests.Response | None = None
        try:
            response = self._send(ctx, body)
            result = wire.parse_answer(
                response.status_code,
                response.content,
                parse,
                ctx,
                headers=response.headers,
                enveloped=enveloped,
            )
        except PanelNotFound as exc:
            self._report(ctx, attempt, started, body, response, None if missing_ok else exc)
            if missing_ok:
                return _MISSING  # type: ignore[return-value]
            raise
        except PanelError as exc:
            if response is not None and method not in REPEATABLE_METHODS:
                _mark_unclear_answer(exc, response.status_code)
            self._report(ctx, attempt, started, body, response, exc)
            raise
        self._report(ctx, attempt, started, body, response, None)
        return result

    def _send(self, ctx: wire.CallContext, body: dict[str, Any] | None) -> requests.Response:
        try:
            return self._session.request(
                ctx.method,
                f"{self.base_url}{wire.API_PREFIX}{ctx.path}",
                json=body,
                headers=_HEADERS,
                auth=self._auth,
                timeout=self.timeouts.as_requests(),
                verify=self.verify_tls,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            repeatable = ctx.method in REPEATABLE_METHODS
            raise _transport_error(exc, ctx, self.timeouts, repeatable=repeatable) from exc
        except (ValueError, UnicodeError):
            # http.client refused a header and quoted it (the token) in its message: raised below,
            # outside this block, so that the message is neither kept nor chained.
            pass
        raise PanelUnreachable(
            f"{ctx.subject} cannot be called: the request for {ctx.call} could not be encoded "
            "(check the API token and the values sent); retrying will not help.",
            transient=False,
            **ctx.error_kwargs(None),
        )

    def _report(
        self,
        ctx: wire.CallContext,
        attempt: int,
        started: float,
        body: dict[str, Any] | None,
        response: requests.Response | None,
        error: PanelError | None,
    ) -> None:
        record = CallRecord(
            panel=self.name or self.base_url,
            method=ctx.method,
            path=ctx.path,
            status=None if response is None else response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            request=redact(body, secrets=ctx.secrets),
            response=None if response is None else _logged_body(response, ctx.secrets),
            outcome="ok" if error is None else "error",
            error="" if error is None else str(error),
            attempt=attempt,
        )
        logger.debug("Panel call: %r", record)
        if self._on_call is None:
            return
        try:
            self._on_call(record)
        except Exception:
            logger.exception("The on_call hook failed for %s %s", ctx.method, ctx.path)


def _logged_body(response: requests.Response, secrets: tuple[str, ...]) -> Any:
    try:
        body: Any = json.loads(response.content)
    except (UnicodeDecodeError, ValueError):
        body = response.content.decode("utf-8", "replace")
    return redact(body, secrets=secrets)


def _transport_error(
    exc: requests.RequestException,
    ctx: wire.CallContext,
    timeouts: Timeouts,
    *,
    repeatable: bool,
) -> PanelUnreachable:
    """Map a requests failure (no usable HTTP answer) to a PanelUnreachable an admin can act on.

    Nothing was sent when connecting failed; after that, a call that is not repeated (POST) may have
    reached the panel, which ``maybe_applied`` and the message say.
    """
    reason = _reason(exc, ctx)
    kwargs = ctx.error_kwargs(None)
    unsure = {"maybe_applied": not repeatable}
    hint = "" if repeatable else _MAYBE_APPLIED
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_error(exc, ctx, reason, repeatable=repeatable)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        message = f"{ctx.subject} did not accept a connection within {timeouts.connect:g}s"
        return PanelUnreachable(f"{message} ({ctx.call}).", transient=True, **kwargs)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        message = f"{ctx.subject} did not answer {ctx.call} within {timeouts.read:g}s."
        return PanelUnreachable(message + hint, transient=True, **unsure, **kwargs)
    if _dropped(exc):
        message = f"{ctx.subject} dropped the connection during {ctx.call}: {reason}."
        return PanelUnreachable(message + hint, transient=True, **unsure, **kwargs)
    if isinstance(exc, requests.exceptions.ConnectionError):
        message = f"{ctx.subject} could not be reached for {ctx.call}: {reason}."
        return PanelUnreachable(message, transient=True, **kwargs)
    if isinstance(exc, ValueError):
        message = f"{ctx.subject} cannot be called: invalid request for {ctx.call}: {reason}."
        return PanelUnreachable(message, transient=False, **kwargs)
    message = f"{ctx.subject} failed at the HTTP level for {ctx.call}: {reason}."
    return PanelUnreachable(message + hint, transient=True, **unsure, **kwargs)


def _tls_error(
    exc: requests.exceptions.SSLError, ctx: wire.CallContext, reason: str, *, repeatable: bool
) -> PanelUnreachable:
    """Certificate and protocol failures need an admin; an interrupted handshake is a blip.

    An interruption cannot be told apart from one while the answer was read, so a POST is treated
    as maybe applied.
    """
    where = f"panel {ctx.panel}" if ctx.panel else "the panel"
    kwargs = ctx.error_kwargs(None)
    text = _POOL_PREFIX.sub("", str(exc)).lower().replace("_", " ").replace("-", " ")
    if any(marker in text for marker in _TLS_CERTIFICATE_MARKERS):
        message = (
            f"TLS certificate verification failed for {where} ({ctx.call}): {reason}. Install a "
            "valid certificate for this host name on the panel; retrying will not help."
        )
        return PanelUnreachable(message, transient=False, **kwargs)
    if any(marker in text for marker in _TLS_PROTOCOL_MARKERS):
        message = (
            f"TLS handshake with {where} failed ({ctx.call}): {reason}. Check that the port serves "
            "HTTPS, or untick Secure if the panel speaks plain HTTP."
        )
        return PanelUnreachable(message, transient=False, **kwargs)
    message = f"TLS handshake interrupted for {where} ({ctx.call}): {reason}."
    if repeatable:
        return PanelUnreachable(f"{message} Retrying may help.", transient=True, **kwargs)
    return PanelUnreachable(message + _MAYBE_APPLIED, transient=True, maybe_applied=True, **kwargs)


def _mark_unclear_answer(exc: PanelError, http_status: int) -> None:
    """A POST answered 2xx or 5xx without a clear rejection (envelope) may have been applied."""
    if isinstance(exc, PanelBadResponse) and (200 <= http_status < 300 or http_status >= 500):
        exc.maybe_applied = True
        exc.message = f"{exc.message.rstrip('.')}.{_MAYBE_APPLIED}"
        exc.args = (exc.message,)


def _dropped(exc: requests.RequestException) -> bool:
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return True
    return bool(exc.args) and isinstance(exc.args[0], ProtocolError)


def _reason(exc: requests.RequestException, ctx: wire.CallContext) -> str:
    """The useful part of a requests error, without pool and object reprs."""
    text = str(exc)
    if match := _ERRNO.search(text):
        text = match.group(1)
    text = _OBJECT_REPR.sub("", _POOL_PREFIX.sub("", text))
    return ctx.clean(text, wire.SNIPPET_LENGTH) or type(exc).__name__
