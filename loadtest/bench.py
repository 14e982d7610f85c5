"""`orders bench`: runs the benchmark suites, prints one Markdown table, saves it as JSON."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtest import (
    bench_api,
    bench_capacity,
    bench_cluster,
    bench_copy,
    bench_eventstore,
    bench_poison,
    bench_projector,
    bench_wakeup,
    generators,
)
from loadtest.stats import Row, markdown, save
from orders.embedded import Endpoints, ensure_servers
from orders.settings import Settings

log = logging.getLogger("loadtest.bench")

POISON_EVENTS = 50_000  # caught up four times in batches of 100: enough to weigh every move


@dataclass(frozen=True, slots=True)
class Run:
    """What every suite is given: the servers, the data folder and the run's options."""

    endpoints: Endpoints
    settings: Settings
    seconds: float
    events: int
    load_generator: str

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    def database(self, name: str) -> str:
        return bench_eventstore.fresh_database(self.endpoints.database_url, name)


def _eventstore(r: Run) -> list[Row]:
    url = r.database("orders_bench")
    rows = asyncio.run(bench_eventstore.measure(url, r.seconds))
    rows += asyncio.run(bench_capacity.sequencer(url, r.data_dir, r.seconds))
    return rows + asyncio.run(bench_copy.measure(r.endpoints.database_url, r.seconds))


def _api(r: Run) -> list[Row]:
    generator = generators.choose(r.load_generator)
    log.info("fixed GETs measured by %s", generator.name)
    return bench_api.run(r.data_dir / "bench-platform", r.seconds, generator=generator)


def _wakeup(r: Run) -> list[Row]:
    """A live catch-up's fixed cost after a one-event write, beside that write's append."""
    redis_url = bench_projector.own_redis_db(r.endpoints.redis_url)
    return asyncio.run(bench_wakeup.measure(r.database("orders_bench_wakeup"), redis_url))


def _lag(r: Run) -> list[Row]:
    """`orders bench lag`: the write -> readable lag rows of `api` on their own, and the
    catch-up's fixed cost: what the projector's live path is tuned against."""
    return bench_api.lag_only(r.data_dir / "bench-platform", r.seconds) + _wakeup(r)


def _projector(r: Run) -> list[Row]:
    redis_url = bench_projector.own_redis_db(r.endpoints.redis_url)
    rows = _wakeup(r)
    rows += asyncio.run(bench_projector.measure(r.database("orders_bench_projector"), redis_url,
                                               r.events))  # fmt: skip
    url = r.database("orders_bench_catch_up")
    return rows + asyncio.run(bench_capacity.projector_catch_up(url, redis_url, r.data_dir,
                                                                r.events))  # fmt: skip


def _cluster(r: Run) -> list[Row]:
    redis_url = bench_projector.own_redis_db(r.endpoints.queue_url)
    folder = r.data_dir / "bench-cluster"
    shutil.rmtree(folder, ignore_errors=True)  # a previous run's nodes.conf would rejoin
    return bench_cluster.run(r.database("orders_bench_cluster"), redis_url, folder, r.events,
                             r.seconds)  # fmt: skip


def _poison(r: Run) -> list[Row]:
    url = r.database("orders_bench_poison")
    return asyncio.run(bench_poison.measure(url, min(r.events, POISON_EVENTS)))


def _capacity(r: Run) -> list[Row]:
    """Only the capacity model's inputs (docs/capacity.md), measured again."""
    generator = generators.choose(r.load_generator)
    return bench_capacity.run(r.data_dir, r.endpoints.database_url, r.endpoints.redis_url,
                              r.seconds, r.events, generator)  # fmt: skip


# `all` runs these in order; `capacity` and `lag` re-measure parts of them and are not in `all`
SUITES: dict[str, Callable[[Run], list[Row]]] = {
    "eventstore": _eventstore,
    "api": _api,
    "projector": _projector,
    "cluster": _cluster,
    "poison": _poison,
}
PARTS: dict[str, Callable[[Run], list[Row]]] = {"capacity": _capacity, "lag": _lag}
CHOICES = [*SUITES, *PARTS, "all"]


def run(
    suite: str,
    settings: Settings,
    *,
    seconds: float,
    events: int = 200_000,
    load_generator: str = "auto",
) -> int:
    r = Run(ensure_servers(settings), settings, seconds, events, load_generator)
    chosen = list(SUITES.values()) if suite == "all" else [{**SUITES, **PARTS}[suite]]
    rows = [row for measure in chosen for row in measure(r)]
    print(markdown(rows))  # noqa: T201
    out = r.data_dir / "bench" / f"{suite}.json"
    save(rows, out)
    log.info("saved %s", out)
    return 0
