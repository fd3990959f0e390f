"""The billing audit trail: one BillingEvent per change, in the change's transaction."""

from __future__ import annotations

from typing import Any

from portal.billing.models import BillingEvent, Invoice


def record(
    *, customer_id: int, action: str, actor: Any = None, invoice: Invoice | None = None, **data
) -> None:
    BillingEvent.objects.create(
        customer_id=customer_id,
        invoice=invoice,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        data={key: str(value) for key, value in data.items()},
    )
