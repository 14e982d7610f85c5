"""The development tools' `orders` subcommands: `orders bench`, `orders loadtest`, `orders soak`.

They reach the CLI through the `orders.commands` entry-point group (pyproject.toml), so the
platform's own packages never import this one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from launch.plugins import Command
from loadtest import bench, soak
from orders.settings import Settings


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "suite", choices=["eventstore", "api", "lag", "projector", "all"], nargs="?", default="all"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each load step")
    parser.add_argument("--events", type=int, default=200_000, help="events the projector rebuilds")
    parser.add_argument(
        "--load-generator", choices=["auto", "wrk", "httpload"], default="auto",
        help="of the fixed GETs: wrk if installed (auto), else httpload in several processes",
    )  # fmt: skip


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    return bench.run(
        args.suite, settings, seconds=args.seconds, events=args.events,
        load_generator=args.load_generator,
    )  # fmt: skip


def _loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--spawn-rate", type=int, default=50)
    parser.add_argument("--run-time", default="2m", help="e.g. 30s, 5m (bounded)")
    parser.add_argument("--demo-scale", type=int, default=300, help="clients in the demo data")


def _loadtest(args: argparse.Namespace, settings: Settings) -> int:
    # locust monkey-patches the whole process with gevent when imported: only for this command
    from loadtest import locust_run  # noqa: PLC0415 - see above

    return locust_run.run(
        settings.data_dir.resolve(), users=args.users, spawn_rate=args.spawn_rate,
        run_time=args.run_time, demo_scale=args.demo_scale,
    )  # fmt: skip


def _soak_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=10.0, help="traffic time (default 10)")
    parser.add_argument("--seed", type=int, default=7, help="of the traffic and the faults")
    parser.add_argument("--shoppers", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="its own servers' folder, wiped first (default: <ORDERS_DATA_DIR>/soak)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the folder afterwards")


def _soak(args: argparse.Namespace, settings: Settings) -> int:
    data_dir = args.data_dir or settings.data_dir.resolve() / "soak"
    return soak.run(
        data_dir, minutes=args.minutes, seed=args.seed, shoppers=args.shoppers, keep=args.keep
    )


BENCH = Command("benchmarks: figures with a baseline from the same run", _bench_arguments, _bench)
LOADTEST = Command("the original's Locust scenario, headless", _loadtest_arguments, _loadtest)
SOAK = Command(
    "mixed traffic with random faults (projector and API workers killed, PostgreSQL and Redis"
    " stopped, the feed's horizon held) for a bounded time on 127.0.0.1, then the final"
    " invariants; exit 1 if any fails",
    _soak_arguments,
    _soak,
)
