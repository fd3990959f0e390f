"""Which tax an invoice carries, and its totals: pure functions, property-tested.

- A tax-exempt customer: no tax.
- EU B2B reverse charge: seller and buyer in different EU countries and the buyer's VAT id is
  well formed (checksum-valid, of the buyer's country): no tax, the invoice says why.
- Otherwise the admin-managed rate of the buyer's country (none set: no tax); a buyer who has
  not given a country is taxed as a sale at home (the seller's country).

Tax is computed once per invoice, on the subtotal of its lines, and rounded half-up to the
currency's minor unit; the total is subtotal + tax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from stdnum.eu import vat as eu_vat

from portal.billing.money import ZERO, money

# EU member states by ISO 3166 code (Greece's VAT ids start with EL).
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."
)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TaxTreatment:
    rate: Decimal  # percent
    label: str
    reverse_charge: bool = False


def eu_vat_id_of(vat_id: str, country: str) -> bool:
    """Whether ``vat_id`` is a checksum-valid EU VAT id of ``country`` (an online check is not
    made here)."""
    if not vat_id or country not in EU_COUNTRIES:
        return False
    try:
        compact = eu_vat.compact(vat_id)
    except Exception:  # stdnum raises its own errors for garbage
        return False
    prefix = "EL" if country == "GR" else country
    return compact.upper().startswith(prefix) and eu_vat.is_valid(compact)


def tax_treatment(
    *,
    seller_country: str,
    buyer_country: str,
    buyer_vat_id: str,
    tax_exempt: bool,
    rate_for: Callable[[str], tuple[Decimal, str] | None],
) -> TaxTreatment:
    """The tax of a sale; ``rate_for(country)`` is the admin's (rate, name) for a country."""
    buyer_country = buyer_country or seller_country
    if tax_exempt:
        return TaxTreatment(ZERO, "Tax exempt")
    if (
        seller_country in EU_COUNTRIES
        and buyer_country in EU_COUNTRIES
        and buyer_country != seller_country
        and eu_vat_id_of(buyer_vat_id, buyer_country)
    ):
        return TaxTreatment(ZERO, "Reverse charge", reverse_charge=True)
    found = rate_for(buyer_country) if buyer_country else None
    if found is None or found[0] == 0:
        return TaxTreatment(ZERO, "No tax")
    rate, name = found
    return TaxTreatment(rate, f"{name} {rate.normalize():f}%")


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def line_amount(quantity: int, unit_price: Decimal) -> Decimal:
    return money(unit_price * quantity)


def totals(amounts: Iterable[Decimal], treatment: TaxTreatment) -> Totals:
    """Subtotal of the line amounts, tax on it at the treatment's rate, and the total."""
    subtotal = money(sum(amounts, ZERO))
    if subtotal < 0:
        raise ValueError(f"An invoice cannot total less than zero ({subtotal}).")
    tax = money(subtotal * treatment.rate / HUNDRED)
    return Totals(subtotal, tax, subtotal + tax)
