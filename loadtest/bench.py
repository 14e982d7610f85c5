"""`orders bench`: runs the benchmark suites, prints one Markdown table, saves it as JSON."""

from __future__ import annotations

import asyncio
import logging

from loadtest import bench_api, bench_capacity, bench_eventstore, bench_projector, generators
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
    data_dir = settings.data_dir.resolve()
    if suite == "capacity":
        generator = generators.choose(load_generator)
        rows += bench_capacity.run(
            data_dir, endpoints.database_url, endpoints.redis_url, seconds, events, generator
        )
    if suite in {"eventstore", "all"}:
        url = bench_eventstore.fresh_database(endpoints.database_url, "orders_bench")
        rows += asyncio.run(bench_eventstore.measure(url, seconds))
        rows += asyncio.run(bench_capacity.sequencer(url, data_dir, seconds))
    if suite in {"api", "all"}:
        generator = generators.choose(load_generator)
        log.info("fixed GETs measured by %s", generator.name)
        rows += bench_api.run(data_dir / "bench-platform", seconds, generator=generator)
    if suite in {"projector", "all"}:
        url = bench_eventstore.fresh_database(endpoints.database_url, "orders_bench_projector")
        redis_url = bench_projector.own_redis_db(endpoints.redis_url)
        rows += asyncio.run(bench_projector.measure(url, redis_url, events))
        url = bench_eventstore.fresh_database(endpoints.database_url, "orders_bench_catch_up")
        rows += asyncio.run(bench_capacity.projector_catch_up(url, redis_url, data_dir, events))
    print(markdown(rows))  # noqa: T201
    out = data_dir / "bench" / f"{suite}.json"
    save(rows, out)
    log.info("saved %s", out)
    return 0
