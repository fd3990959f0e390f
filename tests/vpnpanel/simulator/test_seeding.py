"""``POST /_sim/clients/seed``: many clients in one knob call, for benches that need thousands."""

import datetime as dt

import pytest
import requests

from tests.vpnpanel.simulator.panel_http import ok


def test_seed_creates_named_backdated_clients_on_distinct_ips(simulator):
    seeded = simulator.knob(
        "POST",
        "clients/seed",
        {"prefix": "bulk", "count": 20, "network_name": "office", "created_days_ago": 40},
    )

    assert seeded == {"created": 20, "first": "bulk-1", "last": "bulk-20"}
    clients = {c["name"]: c for c in ok(simulator, "GET", "client")}
    assert set(clients) == {f"bulk-{n}" for n in range(1, 21)}
    assert len({c["ipv4"] for c in clients.values()}) == 20
    assert {c["network_name"] for c in clients.values()} == {"office"}
    last_month = dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)
    rows = ok(simulator, "GET", f"client/bulk-7/traffic/{last_month.year}/{last_month.month}")
    assert any(row["traffic_download"] > 0 for row in rows)  # 40 days of history
    ok(simulator, "POST", "client", {"name": "after", "network_name": "office"})  # IPs still free


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prefix": "bulk", "count": 3, "network_name": "office"}, "The name is already in use"),
        ({"prefix": "more", "count": 60, "network_name": "office"}, "VPN account limit exceeded"),
        ({"prefix": "lab", "count": 6, "network_name": "lab"}, "No free IP address"),
        ({"prefix": "bad", "count": 0, "network_name": "office"}, "count must be"),
    ],
)
def test_seed_is_all_or_nothing(simulator, body, message):
    simulator.knob("POST", "clients/seed", {"prefix": "bulk", "count": 1, "network_name": "office"})

    with pytest.raises(requests.HTTPError) as refused:
        simulator.knob("POST", "clients/seed", body)

    assert message in refused.value.response.json()["message"]
    assert [c["name"] for c in ok(simulator, "GET", "client")] == ["bulk-1"]
