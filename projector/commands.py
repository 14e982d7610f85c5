"""The operators' commands: `orders projector`, `orders projections rebuild [NAME...]` and
`orders projections status` (wired into `launch.cli`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from orders.embedded import ensure_servers
from orders.settings import Settings
from orders.vault import master_key
from projector import rebuild, worker
from projector.engine import Engine, open_engine
from readmodels import status

T = TypeVar("T")


def run_projector(settings: Settings, *, burst: bool = False) -> int:
    return worker.run(settings, burst=burst)


def run_rebuild(settings: Settings, names: Sequence[str]) -> int:
    projections = rebuild.chosen(names)

    async def go(engine: Engine) -> list[rebuild.Rebuilt]:
        await engine.store.sequence()
        return await rebuild.rebuild(engine, projections, progress=True)

    for r in _with_engine(settings, go):
        redis = "Redis loaded" if r.redis_warmed else "Redis follows when it answers"
        print(  # noqa: T201
            f"{r.projection.name}: generation {r.generation} live at feed position"
            f" {r.position:,} (was generation {r.replaced}); {redis}"
        )
    return 0


def run_status(settings: Settings) -> int:
    async def go(engine: Engine) -> status.Status:
        return await status.read_status(engine.store, engine.redis)

    print(status.render(_with_engine(settings, go)))  # noqa: T201
    return 0


def _with_engine(settings: Settings, go: Callable[[Engine], Awaitable[T]]) -> T:
    endpoints = ensure_servers(settings)

    async def main() -> T:
        engine = await open_engine(
            endpoints.database_url, endpoints.redis_url, master=master_key(settings),
            application_name="projections-cli",
        )  # fmt: skip
        try:
            return await go(engine)
        finally:
            await engine.close()

    return asyncio.run(main())
