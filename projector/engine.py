"""What the projector runs with: the event store, Redis (optional: PostgreSQL read models go on
without it), and the folded streams it keeps between runs. Built by whoever runs the projector
(a job's host, the CLI, a test) and passed down; nothing here connects at import time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from eventstore import EventStore
from orders.redis_client import AnyRedis, open_read_redis
from orders.store import open_store
from orders.vault import MasterKey
from projector.redis_sink import RedisSink
from projector.states import StreamCache
from readmodels.schema import Projection

LIVE_BATCH = 1000  # events per batch when following the feed: small, so writes show up soon
REBUILD_BATCH = (
    50_000  # events per batch in a rebuild: large, so a busy stream is written once per batch
)
# streams kept folded per projection between runs (and by a rebuild's replay of what was
# written during its load: its bulk load keeps none)
LIVE_CACHE = 50_000


@dataclass(frozen=True, slots=True)
class Opened:
    """What an engine was opened with: a rebuild's loader processes open their own from it."""

    database_url: str
    redis_url: str | None
    master: MasterKey | None


@dataclass
class Engine:
    store: EventStore
    redis: AnyRedis | None
    live_batch: int = LIVE_BATCH
    rebuild_batch: int = REBUILD_BATCH
    caches: dict[tuple[str, int], StreamCache] = field(default_factory=dict)
    # Set when the process is asked to stop: a live catch-up ends after the batch being written
    # (committed with its checkpoint), so a stop never waits for a backlog to be projected.
    stopping: threading.Event = field(default_factory=threading.Event)
    # Live projections stopped by an event that raises: name -> (generation, position, the
    # monotonic time of the next try). In this process only, so that a projector restarted
    # (with the fix) tries them at once; the record in PostgreSQL is what operators read.
    stalled: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    sink: RedisSink | None = field(init=False)
    opened: Opened | None = None  # None: built by hand (a rebuild then loads in this process)

    def __post_init__(self) -> None:
        self.sink = None if self.redis is None else RedisSink(self.redis)

    def cache(self, projection: Projection, generation: int) -> StreamCache:
        """The live runner's folded streams of a projection's generation (a new generation
        starts empty: it may come from a rebuilt, different feed)."""
        held = self.caches.get((projection.name, generation))
        if held is None:
            for key in [k for k in self.caches if k[0] == projection.name]:
                del self.caches[key]
            held = self.caches[(projection.name, generation)] = StreamCache(LIVE_CACHE)
        return held

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.store.close()


async def open_engine(
    database_url: str,
    redis_url: str | None,
    *,
    master: MasterKey | None,
    application_name: str = "projector",
) -> Engine:
    """`master`: the key that opens personal data (the documents hold it in the clear; None
    only where it is not sealed)."""
    store = await open_store(
        database_url, master=master, max_size=4, application_name=application_name
    )
    # no retries, a quick connect: a Redis that is down is skipped for the run (PostgreSQL goes
    # on) and caught up later; the socket timeout leaves room for a pipeline of document writes
    redis = (
        None if redis_url is None else open_read_redis(redis_url, timeout=5.0, connect_timeout=1.0)
    )
    engine = Engine(store, redis)
    engine.opened = Opened(database_url, redis_url, master)
    return engine
