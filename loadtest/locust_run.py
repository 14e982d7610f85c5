"""`orders loadtest` (`make loadtest`): the original's Locust scenario, headless, against a
platform started for the purpose, with demo data; CSV and HTML under the data folder."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import httpx

from loadtest.platform import Platform

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def _wait_for_reads(query_url: str, timeout: float = 120) -> None:
    """Demo data is written; wait until the projector has it in the read models."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{query_url}/products", params={"limit": 1}, timeout=5).json():
            return
        time.sleep(0.5)
    raise RuntimeError("the read models stayed empty")


def summary(csv_prefix: Path) -> str:
    with (csv_prefix.parent / f"{csv_prefix.name}_stats.csv").open() as f:
        rows = list(csv.DictReader(f))
    header = [
        "| name | requests | failures | rps | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    body = [
        f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} |"
        f" {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} |"
        for row in rows
    ]
    return "\n".join(header + body)


def run(data_dir: Path, *, users: int, spawn_rate: int, run_time: str, demo_scale: int) -> int:
    out = data_dir / "loadtest"
    out.mkdir(parents=True, exist_ok=True)
    with Platform(data_dir / "loadtest-platform") as platform:
        platform.orders(
            "demo-data", "--clients", str(demo_scale), "--products", str(demo_scale // 2),
            "--orders", str(demo_scale),
        )  # fmt: skip
        _wait_for_reads(platform.query_url)
        prefix = out / "locust"
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
             "-u", str(users), "-r", str(spawn_rate), "-t", run_time, "--stop-timeout", "10",
             "--host", platform.query_url, "--csv", str(prefix), "--html", str(out / "report.html"),
             "--only-summary", "--loglevel", "WARNING"],
            env={**platform.env, "ORDERS_COMMAND_URL": platform.command_url}, check=False,
        )  # fmt: skip
    print(summary(prefix))  # noqa: T201
    print(f"\nCSV and HTML report in {out}")  # noqa: T201
    return 0
