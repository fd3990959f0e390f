"""Who buys and who sells, as an invoice shows them: read now for a proforma, copied onto the
invoice when it is paid (a later change of address does not rewrite a paid invoice)."""

from __future__ import annotations

from typing import Any

from portal.accounts.models import Customer
from portal.core.models import Branding

BUYER_FIELDS = (
    "billing_name",
    "company_name",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "vat_id",
)


def buyer_details(customer: Customer) -> dict[str, Any]:
    """The customer's billing details (empty where the profile has none yet)."""
    details: dict[str, Any] = {name: getattr(customer, name, "") or "" for name in BUYER_FIELDS}
    details["billing_name"] = details["billing_name"] or customer.display_name
    details["email"] = customer.user.email
    details["country"] = str(details["country"]).upper()
    details["tax_exempt"] = bool(getattr(customer, "tax_exempt", False))
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
