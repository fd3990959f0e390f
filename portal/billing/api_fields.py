"""Serializer fields of money for the API: amounts travel as strings, exact."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from portal.billing.money import MoneyField as MoneyColumn
from portal.billing.money import minor_units, money

#: What the amount columns hold (numeric(14, 3): 11 whole digits), so an amount the API takes is
#: one the database stores — PostgreSQL refuses a larger one with an error, not a 400.
MAX_DIGITS = MoneyColumn().max_digits
WHOLE_DIGITS = MAX_DIGITS - MoneyColumn().decimal_places
LARGEST = Decimal(10) ** WHOLE_DIGITS - Decimal(10) ** -MoneyColumn().decimal_places
TOO_LARGE = f"Give an amount of at most {WHOLE_DIGITS} digits before the decimal point."


class MoneyField(serializers.DecimalField):
    """An amount as a string at the currency's minor unit (``"9.99"``, never a float); input
    no finer than that unit and no larger than the columns hold. The unit is read per request
    (``BILLING_CURRENCY_DECIMALS``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", LARGEST)
        kwargs["error_messages"] = {"max_value": TOO_LARGE, **kwargs.get("error_messages", {})}
        super().__init__(
            max_digits=MAX_DIGITS, decimal_places=None, coerce_to_string=True, **kwargs
        )

    def to_internal_value(self, data: Any) -> Decimal:
        value = super().to_internal_value(data)
        if money(value) != value:
            raise serializers.ValidationError(
                f"Give the amount with at most {minor_units()} decimal places."
            )
        return money(value)

    def to_representation(self, value: Decimal) -> str:
        return str(money(value))
