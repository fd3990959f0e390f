"""The only code that speaks to Stripe: one client with a forced timeout, one function per call.

Every call that creates something carries the idempotency key its caller saved before the call,
so the SDK's own retries and ours are the same request to Stripe. Answers come back as plain
dicts. Errors say whether to try again (:class:`StripeUnavailable`: not done yet, the same key
later) or not (:class:`StripeRefused`), and their text never holds a key or secret: only the
error's type, HTTP status, code and Stripe's request id.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

from portal.billing.money import MINOR_UNITS, currency, minor_units

#: (connect, read) seconds of every call; the SDK's default read timeout is 80 s.
TIMEOUT = (5.0, 30.0)
#: Retries by the SDK of connection errors, 409, 429 and 5xx (with the same Idempotency-Key).
MAX_NETWORK_RETRIES = 2
#: How old a webhook's signed timestamp may be (the SDK's default): older is a replay.
WEBHOOK_TOLERANCE_SECONDS = 300
#: Stripe's exponent where it differs from ISO 4217: ISK is sent with two (zero) decimals.
STRIPE_EXPONENTS = {"ISK": 2}


class StripeError(Exception):
    """A call to Stripe that did not succeed; the message is safe to log and show to staff."""


class StripeUnavailable(StripeError):
    """Transient (unreachable, timeout, 409, 429, 5xx): not done yet; ask again, same key."""


class StripeRefused(StripeError):
    """Permanent: Stripe refused the request (4xx); asking again the same way will not help."""

    def __init__(self, message: str, *, idempotency_conflict: bool = False) -> None:
        super().__init__(message)
        self.idempotency_conflict = idempotency_conflict


class BadSignature(Exception):
    """A webhook body whose Stripe-Signature is missing, forged or too old."""


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


# Amounts ----------------------------------------------------------------------------------------


def exponent(code: str) -> int:
    """Stripe's minor-unit exponent of a currency (2 for EUR, 0 for JPY, 2 for ISK)."""
    code = code.upper()
    if code in STRIPE_EXPONENTS:
        return STRIPE_EXPONENTS[code]
    return minor_units() if code == currency() else MINOR_UNITS.get(code, 2)


def to_minor(amount: Decimal, code: str) -> int:
    """``amount`` in the currency's smallest unit, exactly (9.99 EUR → 999), or ValueError."""
    scaled = Decimal(amount).scaleb(exponent(code))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {code} is not a whole number of the currency's minor unit.")
    return int(scaled)


def from_minor(value: Any, code: str) -> Decimal:
    """Stripe's integer amount back as a Decimal (999 EUR → 9.99), exactly; anything but an
    int (a float, a string, a bool) is refused."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"Stripe amounts are integers, not {type(value).__name__}.")
    return Decimal(value).scaleb(-exponent(code))


# Calls ------------------------------------------------------------------------------------------


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def _describe(exc: stripe.StripeError) -> str:
    """The error without its message: Stripe's text may quote a (masked) key back."""
    parts = [type(exc).__name__]
    if exc.http_status:
        parts.append(f"HTTP {exc.http_status}")
    if exc.code:
        parts.append(f"code {exc.code}")
    if exc.request_id:
        parts.append(f"request {exc.request_id}")
    return ", ".join(parts)


def _translated(exc: stripe.StripeError) -> StripeError:
    status = exc.http_status
    if isinstance(exc, stripe.APIConnectionError) or status in (None, 409, 429) or status >= 500:
        return StripeUnavailable(f"Stripe did not answer ({_describe(exc)}).")
    return StripeRefused(
        f"Stripe refused the request ({_describe(exc)}).",
        idempotency_conflict=isinstance(exc, stripe.IdempotencyError),
    )


def _call(method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return method(*args, **kwargs).to_dict()
    except stripe.StripeError as exc:
        raise _translated(exc) from None


def session_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    sessions = _client().v1.checkout.sessions
    return _call(sessions.create, params, options={"idempotency_key": idempotency_key})


def session_retrieve(session_id: str) -> dict[str, Any]:
    return _call(_client().v1.checkout.sessions.retrieve, session_id)


def refund_create(
    *, payment_intent: str, amount_minor: int, metadata: dict[str, str], idempotency_key: str
) -> dict[str, Any]:
    params = {"payment_intent": payment_intent, "amount": amount_minor, "metadata": metadata}
    refunds = _client().v1.refunds
    return _call(refunds.create, params, options={"idempotency_key": idempotency_key})


# Webhooks ---------------------------------------------------------------------------------------


def event_verified(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in a webhook's raw body, once its ``Stripe-Signature`` is verified on exactly
    those bytes with the endpoint's secret and its timestamp is recent; else BadSignature."""
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(str(exc.user_message or "invalid signature")) from None
    except (UnicodeDecodeError, ValueError):
        raise BadSignature("the body is not JSON text") from None
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
        raise BadSignature("the body is not a Stripe event")
    return event
