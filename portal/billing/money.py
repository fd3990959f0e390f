"""Money is ``Decimal`` in the shop's one currency (``BILLING_CURRENCY``), quantized to that
currency's minor unit with ROUND_HALF_UP; a float anywhere in a money path is a bug and raises."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.db import models

# ISO 4217 minor units of currencies a shop is likely to use; others: BILLING_CURRENCY_DECIMALS.
MINOR_UNITS = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2,
    "HUF": 2, "RON": 2, "BGN": 2, "CAD": 2, "AUD": 2, "NZD": 2, "INR": 2, "BRL": 2, "TRY": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}  # fmt: skip
ZERO = Decimal(0)


def currency() -> str:
    return settings.BILLING_CURRENCY


def minor_units() -> int:
    """``BILLING_CURRENCY_DECIMALS`` when set, else the currency's ISO 4217 minor unit."""
    if settings.BILLING_CURRENCY_DECIMALS is not None:
        return settings.BILLING_CURRENCY_DECIMALS
    return MINOR_UNITS.get(currency(), 2)


def money(value: Decimal | int | str) -> Decimal:
    """``value`` as an amount of the shop's currency, rounded half-up to its minor unit."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a Decimal, an int or a string.")
    return Decimal(value).quantize(Decimal(1).scaleb(-minor_units()), rounding=ROUND_HALF_UP)


def smallest_amount() -> Decimal:
    """One minor unit (0.01 EUR), the least a person can type as a payment."""
    return Decimal(1).scaleb(-minor_units())


def format_money(amount: Decimal) -> str:
    """``12.30 EUR`` — plain and unambiguous on invoices, emails and pages."""
    return f"{money(amount):,.{minor_units()}f} {currency()}"


class MoneyFormField(forms.DecimalField):
    """An amount a person types: no finer than the currency's minor unit, and an amount from a
    column (three decimals) shown at it, so a pre-filled ``23.980`` does not fail its own form."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs["decimal_places"] = minor_units()
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        return money(value) if isinstance(value, Decimal) else value


class MoneyField(models.DecimalField):
    """An amount column: three decimal places hold every currency's minor unit."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": MoneyFormField, **kwargs})
