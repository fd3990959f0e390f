"""Who buys and who sells, as an invoice shows them: read now for a proforma, copied onto the
invoice when its payment starts (a later change of address does not rewrite it)."""

from __future__ import annotations

from typing import Any

from portal.accounts.models import Customer
from portal.core.models import Branding


def buyer_details(customer: Customer) -> dict[str, Any]:
    """The customer's billing details as they stand now (``Customer.billing_address()``: empty
    where the profile has none yet)."""
    details: dict[str, Any] = customer.billing_address()
    details["country"] = str(details["country"] or "").upper()
    return details


def seller_details() -> dict[str, Any]:
    branding = Branding.current()
    return {
        "name": branding.legal_name or branding.shop_name,
        "address": branding.address,
        "country": branding.country.upper(),
        "vat_id": branding.vat_id,
        "email": branding.support_email,
    }
