"""``python -m tests.bench [--baseline FILE] [--save FILE] [--quick] [--scenario NAME ...]
[--worker-concurrency N]``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench import report

DEFAULT_SAVE = Path("var/bench/last.json")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    from tests.bench.scenarios import SCENARIOS, Sizes

    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--baseline", type=Path, help="a saved run to compare against")
    parser.add_argument("--save", type=Path, default=DEFAULT_SAVE, help=f"default {DEFAULT_SAVE}")
    parser.add_argument("--quick", action="store_true", help="fewer iterations, shorter runs")
    parser.add_argument(
        "--scenario", action="append", choices=sorted(SCENARIOS), help="only these (repeatable)"
    )
    parser.add_argument(
        "--worker-concurrency",
        type=_positive,
        metavar="N",
        help=f"processes of paid_to_active's Celery worker (default {Sizes.worker_concurrency})",
    )
    return parser.parse_args(argv)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    # A throwaway var/ (SQLite test database, broker spool) that no test run or demo shares.
    var_dir = tempfile.mkdtemp(prefix="portal-bench-var-")
    os.environ["PORTAL_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    args = parse(argv)
    for line in use_local_services():
        print(line)
    baseline = report.load(args.baseline) if args.baseline else None
    try:
        results = run(args.scenario, quick=args.quick, worker_concurrency=args.worker_concurrency)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    report.save(results, args.save)
    print(report.table(results, baseline))
    for verdict in report.verdicts(results):
        print(f"\n{verdict}")
    print(
        f"\nsaved to {args.save}" + (f"; ratios are current / {args.baseline}" if baseline else "")
    )
    return 0


# PostgreSQL and Redis where a development machine (and CI) runs them; DATABASE_URL and
# REDIS_URL, when set, choose instead.
LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def use_local_services() -> list[str]:
    """Point the bench at a local PostgreSQL and Redis that answer, unless the environment names
    its own: paid → active needs both (concurrent payments, a broker that pushes). Says what it
    chose, for the top of the report."""
    chosen = []
    for var, url, answers in (
        ("DATABASE_URL", LOCAL_DATABASE_URL, _postgres_answers),
        ("REDIS_URL", LOCAL_REDIS_URL, _redis_answers),
    ):
        if os.environ.get(var):
            chosen.append(f"{var}: from the environment")
        elif answers(url):
            os.environ[var] = url
            chosen.append(f"{var}: {url} (answered; set {var} to choose another)")
        else:
            chosen.append(f"{var}: not set and nothing answers at {url}: embedded")
    return chosen


def _postgres_answers(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def run(
    names: Sequence[str] | None, *, quick: bool, worker_concurrency: int | None = None
) -> dict[str, Any]:
    import django

    django.setup()
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per eager task
    from tests.bench.scenarios import SCENARIOS, Sizes, test_databases
    from tests.simulator_fixtures import SIMULATOR_NETWORKS
    from vpnpanel.simulator.process import SimulatorProcess

    chosen = [SCENARIOS[name] for name in names or SCENARIOS]
    sizes = Sizes.quick() if quick else Sizes()
    if worker_concurrency is not None:
        sizes = dataclasses.replace(sizes, worker_concurrency=worker_concurrency)
    results: dict[str, Any] = {
        "version": report.RESULT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "quick": quick,
        "scenarios": {},
    }
    with ExitStack() as stack:
        data_dir = Path(os.environ["PORTAL_VAR_DIR"]) / "simulator"
        simulator = stack.enter_context(
            SimulatorProcess(data_dir, networks=SIMULATOR_NETWORKS, slots=1000, seed=1234)
        )
        if any(scenario.needs_db for scenario in chosen):
            stack.enter_context(test_databases())
        for scenario in chosen:
            results["scenarios"][scenario.name] = scenario.run(simulator, sizes)
    return results


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip()
