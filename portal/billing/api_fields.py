"""Serializer fields of money for the API: amounts travel as strings, exact."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from portal.billing.money import minor_units, money

MAX_DIGITS = 14


class MoneyField(serializers.DecimalField):
    """An amount as a string at the currency's minor unit (``"9.99"``, never a float); input
    no finer than that unit. The unit is read per request (``BILLING_CURRENCY_DECIMALS``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
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
