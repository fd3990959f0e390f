"""Billing's answers to changes elsewhere (connected in ``BillingConfig.ready``)."""

from __future__ import annotations

from typing import Any

from portal.billing.services.invoices import invoices_retax_unpaid

#: The billing details that decide an invoice's tax.
TAX_FIELDS = frozenset({"country", "vat_id", "tax_exempt"})


def customer_saved(
    sender: type, instance: Any, created: bool, raw: bool = False, update_fields=None, **kwargs
) -> None:
    """A customer's tax details changed (their profile, or staff): proformas nothing has been
    paid on are taxed again, so the invoice they pay shows the tax of the buyer it names."""
    if created or raw or (update_fields is not None and not TAX_FIELDS & set(update_fields)):
        return
    invoices_retax_unpaid(customer=instance)
