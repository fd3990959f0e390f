import random
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from provisioning.naming import deduplicated, render_name_rule
from provisioning.product_settings import DeployTarget, Placement, ProductSettings

NOW = datetime(2026, 3, 7, 8, 9, 5, tzinfo=UTC)


def test_every_macro_is_expanded():
    rule = (
        "x{client_id}-{service_id}-{unixtime}-{year}{month}{day}-{hour}{minute}{second}"
        "-{random_digit_3}-{random_letter_5}"
    )

    name = render_name_rule(rule, client_id=12, service_id=345, now=NOW, rng=random.Random(1))

    prefix = f"x12-345-{int(NOW.timestamp())}-20260307-080905-"
    assert name.startswith(prefix)
    digits, letters = name.removeprefix(prefix).split("-")
    assert digits.isdigit()
    assert len(digits) == 3
    assert letters.isalpha()
    assert letters.islower()
    assert len(letters) == 5


def test_default_rule_gives_a_panel_safe_name():
    name = render_name_rule(
        ProductSettings().client_name_rule, client_id=7, service_id=8, now=NOW, rng=random.Random(2)
    )

    assert name.startswith("vpn-7-8-")
    assert len(name) == len("vpn-7-8-") + 4


def test_collisions_get_numbered_suffixes():
    taken = {"vpn-a", "vpn-a-1", "vpn-a-2"}

    assert deduplicated("vpn-b", taken.__contains__) == "vpn-b"
    assert deduplicated("vpn-a", taken.__contains__) == "vpn-a-3"


def test_settings_round_trip_through_json():
    original = ProductSettings(
        download_mbps=100,
        upload_mbps=0,
        client_name_rule="c{service_id}",
        instruction_url="https://docs.example.com/vpn",
        deploy_targets=(DeployTarget(2, "office"), DeployTarget(1, "office")),
        placement=Placement.LEAST_FULL,
        metric_download=True,
    )

    assert ProductSettings.from_json(original.to_json()) == original
    assert ProductSettings.from_json({}) == ProductSettings()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"download_mbps": 10001}, "download_mbps"),
        ({"upload_mbps": -1}, "upload_mbps"),
        ({"download_mbps": True}, "download_mbps"),
        ({"client_name_rule": "vpn {service_id}"}, "client_name_rule"),
        ({"client_name_rule": "vpn-{nope}"}, "client_name_rule"),
        ({"client_name_rule": "vpn-{random_digit_99}"}, "client_name_rule"),
        ({"instruction_url": "javascript:alert(1)"}, "instruction_url"),
        ({"deploy_targets": [{"server_id": 1}]}, "deploy_targets"),
        ({"deploy_targets": [{"server_id": 1, "network": "a b"}]}, "deploy_targets"),
        ({"deploy_targets": [{"server_id": 1, "network": "a"}] * 2}, "deploy_targets"),
        ({"placement": "random"}, "placement"),
        ({"metric_upload": "yes"}, "metric_upload"),
        ({"colour": "blue"}, "settings"),
    ],
)
def test_invalid_settings_are_rejected_on_the_right_field(data, field):
    with pytest.raises(ValidationError) as excinfo:
        ProductSettings.from_json(data)

    assert field in excinfo.value.message_dict
