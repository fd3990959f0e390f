"""What a month of traffic costs, the pure function behind the usage invoice and the traffic
page's card: GB are 10^9 bytes rounded half-up to 0.001 GB, the included GB come off (never
below zero), and each line is rounded once, half-up to the cent; property-tested and by table."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.services.usage import months_between, utc_month
from portal.billing.usage_charges import DOWNLOAD, UPLOAD, Rate, gb_text, usage_bill, usage_line

GB = 10**9
HALF_CENT = Decimal("0.005")

used_bytes = st.integers(min_value=0, max_value=10**15)
prices = st.decimals(min_value=0, max_value=100, places=2)
included = st.decimals(min_value=0, max_value=10_000, places=3)


@pytest.mark.parametrize(
    ("used", "included_gb", "price", "billable", "amount"),
    [
        (0, "0", "0.50", "0", "0.00"),
        (150 * GB, "100", "0.50", "50", "25.00"),
        (100 * GB, "100", "0.50", "0", "0.00"),
        (99 * GB, "100", "0.50", "0", "0.00"),  # never below zero
        (1_234_567_890, "0", "0.10", "1.235", "0.12"),  # 1.2346 GB → 1.235; 0.1235 → 0.12
        (1_250_000_000, "0", "0.01", "1.25", "0.01"),  # 0.0125 → 0.01
        (1_500_000_000, "0", "0.01", "1.5", "0.02"),  # 0.015 → 0.02, half-up
        (499_999, "0", "1000.00", "0", "0.00"),  # below half a MB rounds to 0.000 GB
        (500_000, "0", "1000.00", "0.001", "1.00"),  # half a MB rounds up to 0.001 GB
    ],
)
def test_a_line_is_the_billable_gb_times_the_price_rounded_once(
    used, included_gb, price, billable, amount
):
    line = usage_line(DOWNLOAD, used, Rate(Decimal(price), Decimal(included_gb)))

    assert line.billable_gb == Decimal(billable)
    assert line.amount == Decimal(amount)
    assert line.amount.as_tuple().exponent == -2


@given(used=used_bytes, price=prices, free=included)
def test_a_line_is_within_half_a_cent_of_the_exact_price_and_never_negative(used, price, free):
    line = usage_line(UPLOAD, used, Rate(price, free))

    exact = max(Decimal(used) / GB - free, Decimal(0)) * price
    assert line.amount >= 0
    assert line.billable_gb == max(line.used_gb - free, Decimal(0))
    # the GB rounding (half a MB) and the cent rounding are the only differences
    assert abs(line.amount - exact) <= HALF_CENT + price * Decimal("0.0005")


@given(down=used_bytes, up=used_bytes, price=prices, free=included)
def test_the_total_is_the_sum_of_the_rounded_lines_and_billable_only_above_zero(
    down, up, price, free
):
    rates = {DOWNLOAD: Rate(price, free), UPLOAD: Rate(price, free)}

    bill = usage_bill(download_bytes=down, upload_bytes=up, rates=rates)

    assert [line.direction for line in bill.lines] == [DOWNLOAD, UPLOAD]
    assert bill.total == sum(line.amount for line in bill.lines)
    assert bill.billable == (bill.total > 0)


def test_only_the_metered_directions_are_charged():
    bill = usage_bill(
        download_bytes=5 * GB, upload_bytes=7 * GB, rates={UPLOAD: Rate(Decimal("1"), Decimal(0))}
    )

    assert [(line.direction, line.amount) for line in bill.lines] == [(UPLOAD, Decimal("7.00"))]


def test_the_line_describes_used_included_billable_and_price():
    line = usage_line(DOWNLOAD, 123_456_789_000, Rate(Decimal("0.50"), Decimal("100")))

    assert line.describe() == (
        "123.457 GB downloaded, 100 GB included, 23.457 GB billable at 0.50 EUR/GB"
    )
    assert [gb_text(Decimal(v)) for v in ("1.500", "100.000", "0.001", "0")] == [
        "1.5", "100", "0.001", "0",
    ]  # fmt: skip


def test_months_are_utc_calendar_months_across_a_year_end():
    assert utc_month(datetime(2027, 1, 1, 0, 30, tzinfo=UTC)) == (2027, 1)
    assert months_between((2026, 11), (2027, 2)) == [(2026, 11), (2026, 12), (2027, 1), (2027, 2)]
    assert months_between((2027, 3), (2027, 2)) == []
