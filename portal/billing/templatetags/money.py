from decimal import Decimal

from django import template

from portal.billing.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    """``12.30 EUR``: an amount in the shop's currency, as every page, mail and PDF shows it."""
    return "" if amount is None else format_money(amount)
