"""What one load step cost the platform, per operation: CPU milliseconds by part (`loadtest.cpu`),
PostgreSQL WAL bytes (`pg_current_wal_lsn()` before and after) and events appended (the feed
head before and after). The inputs of the capacity model (docs/capacity.md).

CPU time, not throughput: the machine is shared, and another process's load slows a step down
far more than it changes the CPU seconds each request takes. With `settle`, the step ends only
once the sequencer and every projection have caught up with the feed head, so the projector's
and PostgreSQL's share of the step's commands is all inside it (and no later step's).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from eventstore import EventStore
from loadtest import cpu
from readmodels.status import read_status

SETTLE_SECONDS = 120.0  # a projector that has not caught up by then is a failure, not a figure
POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Reading:
    cpu: dict[tuple[str, int], float]
    wal_lsn: str
    head: int  # feed head (sequenced events)
    driver: float  # CPU seconds of this process (the load generator or in-process driver)
    backends: dict[int, str]  # PostgreSQL backend pid -> its client's application_name


@dataclass(frozen=True, slots=True)
class Cost:
    """Per operation."""

    cpu_ms: dict[str, float]  # by part of the platform
    wal_bytes: float
    events: float  # sequenced into the feed
    driver_ms: float
    postgresql_for: dict[str, float]  # PostgreSQL's share by client application

    def parts(self, *skipped: str, digits: int = 2) -> str:
        return " + ".join(
            f"{p} {ms:.{digits}f}" for p, ms in self.cpu_ms.items() if p not in skipped
        )

    def postgresql_split(self) -> str:
        """PostgreSQL's CPU by whom its backends served, largest first."""
        shares = sorted(self.postgresql_for.items(), key=lambda share: -share[1])
        shown = [f"{client} {ms:.2f}" for client, ms in shares if ms >= 0.005]  # noqa: PLR2004 - what .2f shows
        return ", ".join(shown) or "no one above 0.005"


class Meter:
    """`root`: the pid of `orders up` (None: only the data folder's PostgreSQL and Redis)."""

    def __init__(self, root: int | None, data_dir: Path, database_url: str) -> None:
        self.root, self.data_dir, self.database_url = root, data_dir, database_url
        self._store: EventStore | None = None

    async def __aenter__(self) -> Self:
        self._store = await EventStore.open(
            self.database_url, min_size=1, max_size=1, application_name="bench-meter"
        )
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._store is not None:
            await self._store.close()

    @property
    def store(self) -> EventStore:
        assert self._store is not None, "use the meter as an async context manager"
        return self._store

    async def reading(self, *, settle: bool = False) -> Reading:
        if settle:
            await self._settle()
        async with self.store.connection() as conn:
            cur = await conn.execute("SELECT pg_current_wal_lsn()::text")
            lsn = await cur.fetchone()
            cur = await conn.execute(
                "SELECT pid, application_name FROM pg_stat_activity WHERE backend_type = %s",
                ("client backend",),
            )
            backends = {int(pid): name or "unnamed" for pid, name in await cur.fetchall()}
        assert lsn is not None
        head = (await self.store.feed_head()).position
        times = cpu.own_cpu_seconds()
        return Reading(cpu.cpu_seconds(self.root, self.data_dir), lsn[0], head, times, backends)

    async def cost(self, before: Reading, operations: int, *, settle: bool = False) -> Cost:
        after = await self.reading(settle=settle)
        async with self.store.connection() as conn:
            cur = await conn.execute(
                "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)::float8",
                (after.wal_lsn, before.wal_lsn),
            )
            wal = await cur.fetchone()
        assert wal is not None
        n = max(operations, 1)
        return Cost(
            cpu.per_request_ms(before.cpu, after.cpu, n),
            wal[0] / n,
            (after.head - before.head) / n,
            1000 * (after.driver - before.driver) / n,
            _postgresql_for(before, after, n),
        )

    async def _settle(self) -> None:
        """Until nothing waits to be sequenced and every projection has applied the head."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            status = await read_status(self.store, None)
            if not status.unsequenced and all(p.lag_events == 0 for p in status.projections):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the projections did not catch up: {status}")
            await asyncio.sleep(POLL_SECONDS)


def _postgresql_for(before: Reading, after: Reading, operations: int) -> dict[str, float]:
    """PostgreSQL's CPU milliseconds per operation by the application each backend served;
    "server" for the postmaster and its own workers (WAL writer, checkpointer, autovacuum...)."""
    shares: dict[str, float] = {}
    for (part, pid), seconds in after.cpu.items():
        if part == "postgresql":
            client = after.backends.get(pid) or before.backends.get(pid) or "server"
            spent = seconds - before.cpu.get((part, pid), 0.0)
            shares[client] = shares.get(client, 0.0) + 1000 * spent / operations
    return shares
