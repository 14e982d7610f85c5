"""Smoke runs of `orders bench all` and `orders loadtest` as a user runs them, for seconds: every
row of the table is measured and saved, the load test reports requests and no failures. The
figures themselves are the benchmark's business, never asserted here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# every row `make bench` promises (issue 8), by the start of its name
ROWS = (
    "trivial FastAPI GET, 64 conn",
    "query GET one, 64 conn",
    "query GET list (20), 64 conn",
    "trivial FastAPI GET, 400 conn",
    "query GET one, 400 conn",
    "query GET list (20), 400 conn",
    "plain INSERT, 64 writers",
    "command create client, 64 conn",
    "command add order line, 64 conn",
    "write -> readable lag,",
    "write -> readable lag at the full command rate",
    "projector CPU per write at the full command rate",
    "add order line, fresh product",
    "add order line, product with 100,000 events",
    "64 buyers, 64 products",
    "64 buyers, one product",
    "CPU per command (create client)",
    "CPU per command (add order line)",
    "WAL per command (create client",
    "WAL per command (add order line",
    "projector CPU per event (create client)",
    "projector CPU per event (add order line)",
    "CPU per read (GET one, Redis,",
    "CPU per read (GET list (20), Redis,",
    "CPU per read (GET one, Redis down, PostgreSQL fallback",
    "CPU per read (GET list (20), Redis down, PostgreSQL fallback",
    "create client, personal data plain, 64 conn",
    "create client, personal data sealed, 64 conn",
    "command API CPU per create client, plain",
    "command API CPU per create client, sealed",
    "catch-up after a one-event write",
    "rebuild of every projection until switched",
    "rebuild incl. dropping the old generation",
    "rebuild until Redis is loaded too",
    "projector catch-up, 1 process, every projection",
    "rebuild of orders alone until switched",
    "rebuild loader peak RSS, orders",
    "plain INSERT, 32 writers",
    "append 1 event, 32 writers",
    "sequencer",
    "sequencer beside 32 appenders",
    "PostgreSQL CPU per append, sequenced",
    "WAL per append, sequenced",
    "sequencer ceiling",
    "verify, chain only",
    "verify against checkpoints",
    "feed read raw",
    "feed read, plain personal values through the vault",
    "store copy, plain personal values sealed",
    "feed read of the copy, sealed values opened",
    "rebuild of every projection to a 3-master Redis Cluster",
    "Redis reads from a 3-master Redis Cluster",
)


# What a fresh machine has: the virtualenv `make` built and the system's base tools. Anything
# else the benchmarks shell out to (wrk in /usr/local/bin, say) is out of reach, so a tool
# `make` does not install cannot creep back in unnoticed.
FRESH_PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"


def _env(data: Path) -> dict[str, str]:
    """Only the data folder: its own embedded servers, as on a fresh machine."""
    dropped = ("ORDERS_", "DATABASE_", "REDIS_", "POSTGRES_")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(dropped)},
        "ORDERS_DATA_DIR": str(data),
        "LOG_LEVEL": "WARNING",
        "PATH": FRESH_PATH,
    }


def _orders(data: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args],
        env=_env(data), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    # the embedded servers the runs left behind: the folder's own and each platform's
    for folder in (tmp_path / "data", *(tmp_path / "data").glob("*-platform")):
        if folder.exists():
            _orders(folder, "servers", "stop", timeout=60)


def test_bench_all_measures_and_saves_every_row(data: Path) -> None:
    done = _orders(data, "bench", "all", "--seconds", "1", "--events", "20000", timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.loads((data / "bench" / "all.json").read_text())
    names = [row["name"] for row in saved]
    for wanted in ROWS:
        assert any(name.startswith(wanted) for name in names), (wanted, names)
    for row in saved:
        assert row["figure"] > 0, row
        if row["baseline"]:
            assert row["ratio"] == pytest.approx(row["figure"] / row["baseline"])
    # every HTTP row says what measured it; without wrk on PATH, the project's own generator
    wrk = shutil.which("wrk", path=FRESH_PATH)
    gets = [row for row in saved if " GET" in row["name"]]
    assert len(gets) == 6, names
    for row in gets:
        assert row["generator"].startswith("wrk" if wrk else "httpload, "), row
    assert all(row["generator"] for row in saved if "command " in row["name"]), saved
    assert "| measurement | figure |" in done.stdout
    assert "measured by |" in done.stdout


def test_loadtest_runs_the_scenario_headless_and_reports(data: Path) -> None:
    done = _orders(
        data, "loadtest", "--users", "20", "--spawn-rate", "20", "--run-time", "8s",
        "--demo-scale", "20", timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = data / "loadtest"
    assert (out / "report.html").stat().st_size > 0
    aggregated = next(
        line for line in done.stdout.splitlines() if line.startswith("| Aggregated |")
    )
    cells = [c.strip() for c in aggregated.strip("|").split("|")]
    requests, failures = int(cells[1]), int(cells[2])
    assert requests > 0
    assert failures == 0, done.stdout
    stats = (out / "locust_stats.csv").read_text()
    for name in ("/products", "/clients", "/categories", "/health_check"):  # the heavy weights
        assert f",{name}," in stats, stats
