"""Payment gateways: one interface, one module each.

A gateway starts the payment of an invoice from the customer's "Pay" button and answers with a
page or a redirect; the money is applied only by ``payment_record`` — from a verified
notification (a webhook), a server-side confirmation, or an admin recording a transfer — never
from anything the browser says.
"""

from __future__ import annotations

from typing import Protocol

from django.http import HttpRequest, HttpResponse

from portal.billing.models import Gateway as GatewayKey
from portal.billing.models import Invoice


class PaymentGateway(Protocol):
    key: str
    label: str

    def available(self) -> bool: ...

    def start(self, request: HttpRequest, invoice: Invoice) -> HttpResponse: ...


def gateways() -> dict[str, PaymentGateway]:
    """The gateways the customer may choose from now, in the order they are offered."""
    from portal.billing.gateways import bank_transfer, demo, stripe_checkout

    all_gateways: list[PaymentGateway] = [
        demo.DemoGateway(),
        stripe_checkout.StripeCheckoutGateway(),
        bank_transfer.BankTransferGateway(),
    ]
    return {gateway.key: gateway for gateway in all_gateways if gateway.available()}


__all__ = ["GatewayKey", "PaymentGateway", "gateways"]
