"""`orders bench`: runs the benchmark suites, prints one Markdown table, saves it as JSON."""

from __future__ import annotations

import asyncio
import logging

from loadtest import bench_api, bench_eventstore, bench_projector, bench_wakeup, generators
from loadtest.stats import Row, markdown, save
from orders.embedded import ensure_servers
from orders.settings import Settings

log = logging.getLogger("loadtest.bench")


def run(
    suite: str,
    settings: Settings,
    *,
    seconds: float,
    events: int = 200_000,
    load_generator: str = "auto",
) -> int:
    endpoints = ensure_servers(settings)
    rows: list[Row] = []
    if suite in {"eventstore", "all"}:
        url = bench_eventstore.fresh_database(endpoints.database_url, "orders_bench")
        rows += asyncio.run(bench_eventstore.measure(url, seconds))
    if suite in {"api", "all"}:
        generator = generators.choose(load_generator)
        log.info("fixed GETs measured by %s", generator.name)
        rows += bench_api.run(
            settings.data_dir.resolve() / "bench-platform", seconds, generator=generator
        )
    if suite == "lag":  # a part of "api", on its own
        rows += bench_api.lag_only(settings.data_dir.resolve() / "bench-platform", seconds)
    if suite in {"lag", "projector", "all"}:
        url = bench_eventstore.fresh_database(endpoints.database_url, "orders_bench_wakeup")
        redis_url = bench_projector.own_redis_db(endpoints.redis_url)
        rows += asyncio.run(bench_wakeup.measure(url, redis_url))
    if suite in {"projector", "all"}:
        url = bench_eventstore.fresh_database(endpoints.database_url, "orders_bench_projector")
        redis_url = bench_projector.own_redis_db(endpoints.redis_url)
        rows += asyncio.run(bench_projector.measure(url, redis_url, events))
    print(markdown(rows))  # noqa: T201
    out = settings.data_dir.resolve() / "bench" / f"{suite}.json"
    save(rows, out)
    log.info("saved %s", out)
    return 0
