"""Money, tax and totals: exact to the minor unit, property-tested with hypothesis."""

import calendar
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.cycles import BillingCycle, add_cycle
from portal.billing.money import money
from portal.billing.tax import (
    EU_COUNTRIES,
    TaxTreatment,
    eu_vat_id_of,
    line_amount,
    tax_treatment,
    totals,
)

VALID_VAT = {"DE": "DE136695976", "AT": "ATU13585627", "GR": "EL094259216"}
prices = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)
rates = st.decimals(min_value=0, max_value=30, places=2, allow_nan=False)
countries = st.sampled_from([*sorted(EU_COUNTRIES), "US", "CH", "GB", ""])


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        money(1.1)
    assert money("1.005") == Decimal("1.01")  # half-up, not banker's rounding
    assert money(Decimal("2.675")) == Decimal("2.68")


@given(st.lists(st.tuples(st.integers(1, 20), prices), min_size=1, max_size=8), rates)
def test_totals_are_exact_and_consistent(lines, rate):
    treatment = TaxTreatment(rate, "VAT")
    amounts = [line_amount(quantity, price) for quantity, price in lines]

    result = totals(amounts, treatment)

    assert result.subtotal == sum(amounts)
    assert result.tax == (result.subtotal * rate / 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    assert result.total == result.subtotal + result.tax
    for amount in (result.subtotal, result.tax, result.total):
        assert amount == amount.quantize(Decimal("0.01"))
        assert amount >= 0
    assert totals(list(reversed(amounts)), treatment) == result  # order never matters


@given(prices, rates)
def test_tax_is_within_half_a_cent_of_the_exact_tax(price, rate):
    result = totals([price], TaxTreatment(rate, "VAT"))

    assert abs(result.tax - price * rate / 100) <= Decimal("0.005")


def test_an_invoice_cannot_total_below_zero():
    with pytest.raises(ValueError, match="less than zero"):
        totals([Decimal("5.00"), Decimal("-6.00")], TaxTreatment(Decimal(0), "No tax"))


def _rates(country):
    return {"DE": (Decimal("19.00"), "VAT"), "AT": (Decimal("20.00"), "USt")}.get(country)


@given(seller=countries, buyer=countries, has_vat_id=st.booleans(), exempt=st.booleans())
def test_reverse_charge_exactly_for_cross_border_eu_business(seller, buyer, has_vat_id, exempt):
    vat_id = VALID_VAT.get(buyer, "") if has_vat_id else ""

    treatment = tax_treatment(
        seller_country=seller,
        buyer_country=buyer,
        buyer_vat_id=vat_id,
        tax_exempt=exempt,
        rate_for=_rates,
    )

    cross_border_b2b = (
        seller in EU_COUNTRIES and buyer in EU_COUNTRIES and buyer != seller and bool(vat_id)
    )
    taxed_in = buyer or seller  # no country given: a sale at home
    assert treatment.reverse_charge == (cross_border_b2b and not exempt)
    if exempt or treatment.reverse_charge:
        assert treatment.rate == 0
    elif _rates(taxed_in):
        assert treatment.rate == _rates(taxed_in)[0]
        assert treatment.label == f"{_rates(taxed_in)[1]} {_rates(taxed_in)[0].normalize():f}%"
    else:
        assert (treatment.rate, treatment.label) == (0, "No tax")


@pytest.mark.parametrize(
    ("vat_id", "country", "valid"),
    [
        ("DE136695976", "DE", True),
        ("DE 136 695 976", "DE", True),
        ("DE136695977", "DE", False),  # checksum
        ("DE136695976", "AT", False),  # another country's id
        ("EL094259216", "GR", True),  # Greece is EL
        ("", "DE", False),
        ("not a vat id", "DE", False),
        ("DE136695976", "US", False),
    ],
)
def test_only_a_checksum_valid_vat_id_of_the_buyers_country_counts(vat_id, country, valid):
    assert eu_vat_id_of(vat_id, country) is valid


@pytest.mark.parametrize(
    ("start", "cycle", "anchor", "due"),
    [
        (date(2026, 1, 31), BillingCycle.MONTHLY, None, date(2026, 2, 28)),
        (date(2028, 1, 31), BillingCycle.MONTHLY, None, date(2028, 2, 29)),
        (date(2026, 2, 28), BillingCycle.MONTHLY, 31, date(2026, 3, 31)),
        (date(2026, 11, 30), BillingCycle.QUARTERLY, None, date(2027, 2, 28)),
        (date(2026, 8, 31), BillingCycle.SEMIANNUAL, None, date(2027, 2, 28)),
        (date(2028, 2, 29), BillingCycle.ANNUAL, None, date(2029, 2, 28)),
        (date(2026, 5, 15), BillingCycle.MONTHLY, None, date(2026, 6, 15)),
    ],
)
def test_a_cycle_keeps_to_its_anchor_day_where_the_calendar_allows(start, cycle, anchor, due):
    assert add_cycle(start, cycle, anchor_day=anchor) == due


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.sampled_from(list(BillingCycle)))
def test_twelve_monthly_cycles_are_a_year_on_the_anchor_day(start, cycle):
    due = start
    for _ in range(12):
        due = add_cycle(due, BillingCycle.MONTHLY, anchor_day=start.day)
    assert (due.year, due.month) == (start.year + 1, start.month)
    assert due.day == min(start.day, calendar.monthrange(due.year, due.month)[1])
    assert add_cycle(start, cycle) > start
