"""A fake of Stripe's API at the HTTP level, for tests of the Stripe Checkout gateway.

The SDK really runs: ``responses`` answers the requests it sends to api.stripe.com (nothing
leaves the machine; a request nobody expects fails the test), as Stripe would, idempotency
included — a request with a key seen before gets the first answer again and creates nothing.
Webhook bodies are signed the way Stripe signs them (``Stripe-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>``), written out here rather than taken
from the SDK, so the portal's verification is checked against the scheme, not against itself.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
import responses
import stripe

SECRET_KEY = "sk_test_portal0123456789secret"
WEBHOOK_SECRET = "whsec_portal0123456789signing"
API = "https://api.stripe.com"
_ids = itertools.count(1)


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send with ``body``."""
    at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{next(_ids)}",
        "object": "event",
        "type": kind,
        "livemode": False,
        "created": int(time.time()),
        "api_version": stripe.api_version,
        "data": {"object": obj},
    }


def post_event(client: Any, body: dict[str, Any] | bytes, signature: str | None = None) -> Any:
    """POST a webhook as Stripe does: the JSON body, signed (unless ``signature`` is given)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/billing/stripe/webhook/",
        data=raw,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(raw) if signature is None else signature,
    )


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    authorization: str


@dataclass
class FakeStripe:
    """Stripe's sessions and refunds, as far as the portal uses them."""

    mock: responses.RequestsMock
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    #: Requests to drop after Stripe acted on them (the answer is lost on the way back).
    lose_answers: int = 0
    #: Requests to answer with this (status, error) instead of acting on them.
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mock.add_callback("POST", f"{API}/v1/checkout/sessions", self._create_session)
        self.mock.add_callback(
            "GET", re.compile(rf"{API}/v1/checkout/sessions/\w+"), self._get_session
        )
        self.mock.add_callback("POST", f"{API}/v1/refunds", self._create_refund)

    # What tests look at and do ---------------------------------------------------------------

    def posts(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.method == "POST" and call.path == path]

    @property
    def only_session(self) -> dict[str, Any]:
        [session] = self.sessions.values()
        return session

    def pay(self, session_id: str, **changes: Any) -> dict[str, Any]:
        """The customer pays on Stripe's page: the session is complete and paid."""
        session = self.sessions[session_id]
        paid = {"status": "complete", "payment_status": "paid"}
        session.update(
            {**paid, "payment_intent": session["payment_intent"] or f"pi_test_{next(_ids)}"}
        )
        session.update(changes)
        return dict(session)

    def expire(self, session_id: str) -> dict[str, Any]:
        self.sessions[session_id].update(status="expired", url=None)
        return dict(self.sessions[session_id])

    # Stripe's side -----------------------------------------------------------------------------

    def _record(self, request: requests.PreparedRequest) -> Call:
        path = request.path_url.split("?")[0]
        body = request.body or ""
        params = dict(parse_qsl(body if isinstance(body, str) else body.decode()))
        call = Call(
            method=request.method or "",
            path=path,
            params=params,
            idempotency_key=request.headers.get("Idempotency-Key"),
            authorization=request.headers.get("Authorization", ""),
        )
        self.calls.append(call)
        return call

    def _answer(self, call: Call, act: Any) -> tuple[int, dict[str, str], str]:
        if call.authorization != f"Bearer {SECRET_KEY}":
            return _reply(401, {"error": {"type": "invalid_request_error", "code": "api_key"}})
        if self.errors:
            return _reply(*self.errors.pop(0))
        key = call.idempotency_key
        if key and key in self.replies:
            status, obj = self.replies[key]
        else:
            status, obj = act(call)
        if key:
            self.replies[key] = (status, obj)
        if self.lose_answers:
            self.lose_answers -= 1
            raise requests.ConnectionError("Connection reset by peer")
        return _reply(status, obj)

    def _create_session(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        return self._answer(self._record(request), self._new_session)

    def _new_session(self, call: Call) -> tuple[int, dict[str, Any]]:
        p = call.params
        session_id = f"cs_test_{next(_ids)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": p.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(p["line_items[0][price_data][unit_amount]"])
            * int(p["line_items[0][quantity]"]),
            "currency": p["line_items[0][price_data][currency]"],
            "client_reference_id": p.get("client_reference_id"),
            "metadata": _nested(p, "metadata"),
            "payment_intent": None,
            "customer_email": p.get("customer_email"),
            "success_url": p.get("success_url"),
            "cancel_url": p.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA",
            "expires_at": int(time.time()) + 86400,
        }
        self.sessions[session_id] = session
        return 200, dict(session)

    def _get_session(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        call = self._record(request)
        session_id = call.path.rsplit("/", 1)[-1]

        def found(_: Call) -> tuple[int, dict[str, Any]]:
            if session_id not in self.sessions:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
            return 200, dict(self.sessions[session_id])

        return self._answer(call, found)

    def _create_refund(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        return self._answer(self._record(request), self._new_refund)

    def _new_refund(self, call: Call) -> tuple[int, dict[str, Any]]:
        refund = {
            "id": f"re_test_{next(_ids)}",
            "object": "refund",
            "amount": int(call.params["amount"]),
            "payment_intent": call.params["payment_intent"],
            "metadata": _nested(call.params, "metadata"),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, dict(refund)


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix)}


def _reply(status: int, obj: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json", "Request-Id": "req_test"}, json.dumps(obj)


@pytest.fixture
def stripe_keys(settings) -> None:
    """Stripe Checkout set up, with test keys."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture
def fake_stripe(stripe_keys, monkeypatch) -> Iterator[FakeStripe]:
    """Stripe's API answered here; the SDK's waits between its retries made instant."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeStripe(mock)
