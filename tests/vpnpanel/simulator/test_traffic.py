import datetime as dt
import time

from tests.vpnpanel.simulator.panel_http import create_client, ok, rejected
from vpnpanel.simulator import activity
from vpnpanel.simulator.state import Client

GB = 1_000_000_000


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def previous_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def test_current_month_has_a_row_per_day_up_to_today(simulator):
    create_client(simulator, name="c")
    today = utc_today()

    rows = ok(simulator, "GET", f"client/c/traffic/{today.year}/{today.month}")

    assert [r["date"] for r in rows] == [
        today.replace(day=d).isoformat() for d in range(1, today.day + 1)
    ]
    assert all(set(r) == {"date", "traffic_download", "traffic_upload"} for r in rows)


def test_padded_month_is_accepted(simulator):
    create_client(simulator, name="c")
    year, month = previous_month(utc_today())

    padded = ok(simulator, "GET", f"client/c/traffic/{year}/{month:02d}")

    assert padded == ok(simulator, "GET", f"client/c/traffic/{year}/{month}")


def test_todays_traffic_grows_during_the_day(simulator):
    create_client(simulator, name="c")
    today = utc_today()
    path = f"client/c/traffic/{today.year}/{today.month}"
    before = ok(simulator, "GET", path)[-1]

    time.sleep(1.2)

    after = ok(simulator, "GET", path)[-1]
    assert after["date"] == today.isoformat()
    assert after["traffic_download"] > before["traffic_download"]
    assert after["traffic_upload"] > before["traffic_upload"]


def test_days_before_the_client_existed_have_no_traffic(simulator):
    create_client(simulator, name="c")
    year, month = previous_month(utc_today())

    rows = ok(simulator, "GET", f"client/c/traffic/{year}/{month}")

    assert rows
    assert {(r["traffic_download"], r["traffic_upload"]) for r in rows} == {(0, 0)}


def test_past_traffic_is_realistic_and_follows_the_seed(simulator_factory):
    first, second = simulator_factory(seed=3), simulator_factory(seed=3)
    for simulator in (first, second):
        simulator.knob("POST", "clients", {"name": "old", "created_days_ago": 70})
    year, month = previous_month(utc_today())
    path = f"client/old/traffic/{year}/{month}"

    rows = ok(first, "GET", path)

    assert rows == ok(second, "GET", path)
    downloads = [r["traffic_download"] for r in rows]
    assert all(0 <= d <= 3.1 * GB for d in downloads)
    assert sum(1 for d in downloads if d > 0) > len(rows) // 2
    assert all(r["traffic_upload"] <= r["traffic_download"] for r in rows)


def test_future_month_of_this_year_is_empty():
    """Against a fixed "now", so it also runs in December (the API reads the real clock)."""
    now = dt.datetime(2024, 6, 15, 12, tzinfo=dt.UTC)
    client = Client(
        name="c",
        network_name="office",
        ipv4="10.0.6.2",
        username="c",
        password="pw",
        status="enable",
        b_download=0,
        b_upload=0,
        private_key="",
        public_key="",
        created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp(),
    )

    def month(number: int) -> list[dict]:
        return activity.traffic(seed=1, client=client, year=2024, month=number, now=now)

    assert [month(m) for m in range(7, 13)] == [[]] * 6
    assert [r["date"] for r in month(6)][-1] == "2024-06-15"


def test_invalid_months_are_refused(simulator):
    create_client(simulator, name="c")

    for month in ("0", "13", "ab", "123", "-1"):
        body = rejected(simulator, "GET", f"client/c/traffic/2024/{month}")
        assert body["message"] == "Wrong month setting", month


def test_invalid_years_are_refused(simulator):
    create_client(simulator, name="c")

    for year in ("1999", "26", "20x6", "next", str(utc_today().year + 1)):
        body = rejected(simulator, "GET", f"client/c/traffic/{year}/1")
        assert body["message"] == "Wrong year setting", year


def test_traffic_of_unknown_client_is_not_found(simulator):
    assert rejected(simulator, "GET", "client/ghost/traffic/2024/1", status=404)["message"] == (
        "Account not found"
    )
