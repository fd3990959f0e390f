"""``make bench``: the runner's JSON and table, and the ratio against a baseline. No timings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.report import METRICS, ratios, skipped, summarize, table, verdicts

ROOT = Path(__file__).resolve().parents[2]


def test_ratio_is_current_over_baseline_per_metric():
    current = {"median_ms": 30.0, "p95_ms": 50.0, "ops_per_s": 20.0}
    baseline = {"median_ms": 20.0, "p95_ms": 100.0, "ops_per_s": 40.0}

    assert ratios(current, baseline) == {"median_ms": 1.5, "p95_ms": 0.5, "ops_per_s": 0.5}


def test_ratio_is_none_without_a_baseline_value_or_with_a_zero_one():
    current = {"median_ms": 30.0, "p95_ms": 50.0, "ops_per_s": 20.0}

    assert ratios(current, None) == dict.fromkeys(METRICS)
    assert ratios(current, {"median_ms": 0.0, "p95_ms": 25.0}) == {
        "median_ms": None,
        "p95_ms": 2.0,
        "ops_per_s": None,
    }


def test_summary_takes_median_nearest_rank_p95_and_rate_over_the_wall_time():
    samples = [i / 1000 for i in range(1, 21)]  # 1..20 ms

    result = summarize(samples, elapsed=2.0, panel_calls=3)

    assert result == {
        "count": 20,
        "median_ms": 10.5,
        "p95_ms": 19.0,
        "ops_per_s": 10.0,
        "extra": {"panel_calls": 3},
    }


def test_table_shows_ratio_columns_only_with_a_baseline_and_a_dash_for_a_new_scenario():
    run = {"scenarios": {"a": summarize([0.01], elapsed=1), "b": summarize([0.02], elapsed=1)}}
    baseline = {"scenarios": {"a": summarize([0.02], elapsed=0.5)}}

    plain = table(run).splitlines()
    compared = table(run, baseline).splitlines()

    assert plain[0].split() == ["scenario", "median", "ms", "p95", "ms", "ops/s", "notes"]
    assert "x base" in compared[0]
    assert compared[1].split()[:7] == ["a", "10.00", "0.50", "10.00", "0.50", "1.00", "0.50"]
    assert compared[2].split()[:7] == ["b", "20.00", "-", "20.00", "-", "1.00", "-"]


def test_table_shows_a_skipped_scenario_with_its_reason_and_no_figures():
    run = {"scenarios": {"a": summarize([0.01], elapsed=1), "b": skipped("needs PostgreSQL")}}
    baseline = {"scenarios": {"a": skipped("needs PostgreSQL"), "b": summarize([0.02], elapsed=1)}}

    rows = table(run, baseline).splitlines()

    assert rows[1].split()[:7] == ["a", "10.00", "-", "10.00", "-", "1.00", "-"]
    assert rows[2].split() == ["b", "skipped:", "needs", "PostgreSQL"]


def test_verdicts_are_the_lines_of_the_scenarios_that_give_one():
    judged = {**summarize([0.5], elapsed=1), "verdict": "p95 500 ms; goal 1200 ms: met"}
    run = {"scenarios": {"a": summarize([0.01], elapsed=1), "b": judged, "c": skipped("why")}}

    assert verdicts(run) == ["p95 500 ms; goal 1200 ms: met"]


def test_quick_run_of_the_panel_client_saves_json_and_prints_ratios(tmp_path):
    # given a fabricated baseline of the same scenario
    baseline = tmp_path / "base.json"
    fabricated = {"median_ms": 10.0, "p95_ms": 20.0, "ops_per_s": 500.0, "count": 1, "extra": {}}
    baseline.write_text(json.dumps({"scenarios": {"panel_client": fabricated}}))
    saved = tmp_path / "last.json"

    # when
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tests.bench", "--quick", "--scenario", "panel_client"),
            *("--save", str(saved), "--baseline", str(baseline)),
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then
    assert done.returncode == 0, done.stderr
    result = json.loads(saved.read_text())
    assert result["quick"] is True
    assert list(result["scenarios"]) == ["panel_client"]
    panel_client = result["scenarios"]["panel_client"]
    assert panel_client["count"] == 30
    assert panel_client["extra"] == {"panel_calls": 30}  # every call reached the simulator
    assert 0 < panel_client["median_ms"] <= panel_client["p95_ms"]
    row = next(line for line in done.stdout.splitlines() if line.startswith("panel_client"))
    expected = ratios(panel_client, fabricated)
    assert row.split()[1:7] == [
        f"{panel_client['median_ms']:.2f}",
        f"{expected['median_ms']:.2f}",
        f"{panel_client['p95_ms']:.2f}",
        f"{expected['p95_ms']:.2f}",
        f"{panel_client['ops_per_s']:.2f}",
        f"{expected['ops_per_s']:.2f}",
    ]


def test_quick_usage_pull_prints_its_wall_time_beside_a_serial_pull_as_a_ratio(tmp_path):
    saved = tmp_path / "last.json"

    done = subprocess.run(
        [
            *(sys.executable, "-m", "tests.bench", "--quick", "--scenario", "usage_pull"),
            *("--save", str(saved)),
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    pull = json.loads(saved.read_text())["scenarios"]["usage_pull"]
    notes = pull["extra"]
    assert (pull["count"], notes["panels"], notes["latency_ms"]) == (1000, 10, 50)
    assert notes["log_rows"] >= 1000  # every service's call logged
    assert notes["ratio"] == pytest.approx(notes["serial_estimate_s"] / notes["wall_s"], rel=0.05)
    assert notes["ratio"] > 1  # the figure itself is the bench's to judge, not a test's
    verdict = next(line for line in done.stdout.splitlines() if "usage pull (1000" in line)
    assert f"{notes['ratio']:.1f}x faster than serial; goal ≥ 20x:" in verdict
