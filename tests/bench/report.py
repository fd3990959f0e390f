"""Pure parts of a bench run: summaries, ratios against a baseline, the table, the JSON file."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

METRICS = ("median_ms", "p95_ms", "ops_per_s")
RESULT_VERSION = 1


def summarize(samples: Sequence[float], *, elapsed: float, **extra: Any) -> dict[str, Any]:
    """Latency samples (seconds) and the wall time they took → one scenario's result."""
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(_percentile(ordered, 0.95) * 1000, 3),
        "ops_per_s": round(len(ordered) / elapsed, 2) if elapsed > 0 else 0.0,
        "extra": extra,
    }


def skipped(reason: str) -> dict[str, Any]:
    """A scenario that could not run here, and why (printed in its row; no figures)."""
    return {"skipped": reason}


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def ratios(
    current: Mapping[str, Any], baseline: Mapping[str, Any] | None
) -> dict[str, float | None]:
    """current / baseline per metric; None where the baseline lacks it or it is zero."""
    result: dict[str, float | None] = {}
    for metric in METRICS:
        base = (baseline or {}).get(metric)
        now = current.get(metric)
        result[metric] = round(now / base, 2) if base and now is not None else None
    return result


def table(results: Mapping[str, Any], baseline: Mapping[str, Any] | None = None) -> str:
    """Scenario, median, p95, ops/s; with a baseline, current/baseline beside each value."""
    base_scenarios = (baseline or {}).get("scenarios", {})
    header = ["scenario", "median ms", "p95 ms", "ops/s"]
    if baseline is not None:
        header = ["scenario", "median ms", "x base", "p95 ms", "x base", "ops/s", "x base"]
    rows = [[*header, "notes"]]
    for name, result in results["scenarios"].items():
        if "skipped" in result:
            rows.append([name, *[""] * (len(header) - 1), f"skipped: {result['skipped']}"])
            continue
        row = [name]
        pairs = ratios(result, base_scenarios.get(name))
        for metric in METRICS:
            row.append(f"{result[metric]:.2f}")
            if baseline is not None:
                row.append("-" if pairs[metric] is None else f"{pairs[metric]:.2f}")
        notes = ", ".join(f"{k}={v}" for k, v in result["extra"].items())
        rows.append([*row, f"n={result['count']}" + (f", {notes}" if notes else "")])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def verdicts(results: Mapping[str, Any]) -> list[str]:
    """The one-line verdicts scenarios that have a goal give (``result["verdict"]``)."""
    return [r["verdict"] for r in results["scenarios"].values() if r.get("verdict")]


def save(results: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data.get("scenarios"), dict):
        raise ValueError(f"{path} is not a bench result (no 'scenarios')")
    return data
