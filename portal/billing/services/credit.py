"""A customer's credit balance: the sum of their credit entries. Using it is a payment of the
``credit`` gateway, taken under a lock of the customer's row so two at once cannot overdraw."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction

from portal.accounts.models import Customer
from portal.billing.models import CreditEntry, Gateway, Invoice, Payment
from portal.billing.money import money
from portal.billing.selectors import credit_balance
from portal.billing.services.payments import payment_record


def credit_apply(*, invoice: Invoice, actor: Any, amount: Decimal | None = None) -> Payment | None:
    """Pay ``invoice`` from the customer's credit: ``amount`` or as much as both the balance
    and the invoice allow. None when there is nothing to apply."""
    with transaction.atomic():
        Customer.objects.select_for_update(no_key=True).get(pk=invoice.customer_id)
        invoice.refresh_from_db()
        usable = min(credit_balance(invoice.customer), invoice.balance_due)
        if amount is not None:
            usable = min(usable, money(amount))
        if usable <= 0:
            return None
        payment = payment_record(
            invoice=invoice,
            amount=usable,
            gateway=Gateway.CREDIT,
            reference=f"credit:{uuid.uuid4()}",
            actor=actor,
        )
        CreditEntry.objects.create(
            customer_id=invoice.customer_id,
            amount=-usable,
            reason=f"Paid {invoice.number or invoice}",
            invoice=invoice,
            payment=payment,
        )
    return payment
