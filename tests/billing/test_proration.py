"""Proration, property-tested: credit and charge are each the exact share of the unused days
rounded half-up to the cent (never more than half a cent off), bounded by the prices, whole
on the first day and nothing on the last; moving back undoes moving there."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.cycles import BillingCycle, add_cycle
from portal.billing.proration import prorate

prices = st.decimals(min_value=0, max_value=10_000, places=2)
starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
cycles = st.sampled_from(list(BillingCycle))
HALF_CENT = Decimal("0.005")


@st.composite
def periods(draw):
    start = draw(starts)
    end = add_cycle(start, draw(cycles))
    on = start + timedelta(days=draw(st.integers(0, (end - start).days)))
    return start, end, on


@given(old=prices, new=prices, period=periods())
def test_credit_and_charge_are_the_exact_share_of_the_days_left_to_the_cent(old, new, period):
    start, end, on = period

    result = prorate(old_price=old, new_price=new, period_start=start, period_end=end, on=on)

    share = Decimal(result.days_left) / Decimal(result.days_in_period)
    assert abs(result.credit - old * share) <= HALF_CENT
    assert abs(result.charge - new * share) <= HALF_CENT
    assert 0 <= result.credit <= old
    assert 0 <= result.charge <= new
    assert result.credit.as_tuple().exponent == -2
    assert result.due == result.charge - result.credit


@given(old=prices, new=prices, period=periods())
def test_moving_back_on_the_same_day_undoes_the_move(old, new, period):
    start, end, on = period
    there = prorate(old_price=old, new_price=new, period_start=start, period_end=end, on=on)
    back = prorate(old_price=new, new_price=old, period_start=start, period_end=end, on=on)

    assert there.due == -back.due


@given(old=prices, new=prices, period=periods())
def test_the_whole_period_on_its_first_day_and_nothing_on_its_end(old, new, period):
    start, end, _ = period

    first = prorate(old_price=old, new_price=new, period_start=start, period_end=end, on=start)
    last = prorate(old_price=old, new_price=new, period_start=start, period_end=end, on=end)

    assert (first.credit, first.charge) == (old, new)
    assert (last.credit, last.charge) == (0, 0)


def test_an_upgrade_half_way_through_a_30_day_month():
    result = prorate(
        old_price=Decimal("9.99"), new_price=Decimal("19.99"),
        period_start=date(2027, 4, 15), period_end=date(2027, 5, 15), on=date(2027, 4, 30),
    )  # fmt: skip

    assert (result.days_left, result.days_in_period) == (15, 30)
    assert (result.credit, result.charge, result.due) == (
        Decimal("5.00"),  # 4.995 rounds half up
        Decimal("10.00"),  # 9.995
        Decimal("5.00"),
    )


@pytest.mark.parametrize("on", [date(2027, 4, 14), date(2027, 5, 16)])
def test_a_day_outside_the_period_is_refused(on):
    with pytest.raises(ValueError, match="not in the period"):
        prorate(
            old_price=Decimal("1"), new_price=Decimal("2"),
            period_start=date(2027, 4, 15), period_end=date(2027, 5, 15), on=on,
        )  # fmt: skip
