"""The hot path: documents and their indexes in Redis, as the projector wrote them.

A GET one is one script call that reads the projection's applied position and the document
together, coalesced with the other reads in flight into one run (`batching.py`). A page is one
script run too: the applied position, the index
range and the documents, read atomically and joined into the JSON array inside Redis. The live
generation of each projection is cached for a second, so it costs no round trip on most reads.

Anything Redis cannot answer for sure returns None and the caller asks PostgreSQL: Redis down or
slow (and then it is left alone for a moment, so a dead Redis costs no timeout per request), a
projection with no applied position (flushed, being reloaded, or never written), a missing
document, an index that is empty or names a document that is gone.
"""

from __future__ import annotations

import logging
import time
from typing import cast

from orders.redis_client import REDIS_FAILURES, AnyRedis
from query_api.batching import RedisBatch
from query_api.reads import Page, Read
from readmodels.schema import PROJECTION_OF, Table, applied_key, live_generation_key

log = logging.getLogger("query_api.redis")

GENERATION_SECONDS = 1.0  # how long a live generation read from Redis is trusted
PAUSE_SECONDS = 1.0  # after a Redis failure, how long reads go straight to PostgreSQL

# Documents by id, run together (see batching.py): for each, KEYS applied position and the
# table's `docs` hash (one hash slot: the projection's generation's); ARGV the id. Its result is
# applied position, document (either may be nil), read atomically, in one flat list for all.
ONE_SCRIPT = """
local found = {}
for p = 0, #KEYS / 2 - 1 do
    local applied = redis.call('GET', KEYS[2 * p + 1])
    found[2 * p + 1] = applied
    found[2 * p + 2] = applied and redis.call('HGET', KEYS[2 * p + 2], ARGV[p + 1])
end
return found
"""

# Pages, run together (see batching.py): for each page, KEYS applied position, the table's
# `index` and its `docs` hash (one hash slot); ARGV index name, first rank, last rank (in the
# index). The index's entries are one range of the table's `index` (`readmodels.keys`): where it
# starts and how long it is are two counts in the skip list, O(log n) each, and the page one
# range by rank from there. A page's result is {applied} when the projection's documents are not
# complete (nothing to serve), {applied, size} when the index is empty, {applied, size, body}
# with body false when a document the index names is gone.
PAGE_SCRIPT = """
local pages = {}
for p = 0, #KEYS / 3 - 1 do
    local applied = redis.call('GET', KEYS[3 * p + 1])
    local index, docs = KEYS[3 * p + 2], KEYS[3 * p + 3]
    local name = ARGV[3 * p + 1]
    local first, last = tonumber(ARGV[3 * p + 2]), tonumber(ARGV[3 * p + 3])
    local page
    if not applied then
        page = {false}
    else
        local low = name .. '\\0'
        local size = redis.call('ZLEXCOUNT', index, '[' .. low, '(' .. name .. '\\1')
        last = math.min(last, size - 1)
        if size == 0 then
            page = {applied, 0}
        elseif first > last then
            page = {applied, size, '[]'}
        else
            local start = redis.call('ZLEXCOUNT', index, '-', '(' .. low)
            local members = redis.call('ZRANGE', index, start + first, start + last)
            local ids = {}
            for i = 1, #members do
                ids[i] = string.match(members[i], '^0*(%d+)$', #low + 1)
            end
            local found = redis.call('HMGET', docs, unpack(ids))
            local whole = true
            for i = 1, #found do
                if not found[i] then whole = false end
            end
            page = {applied, size, whole and ('[' .. table.concat(found, ',') .. ']') or false}
        end
    end
    pages[p + 1] = page
end
return pages
"""


class RedisSource:
    def __init__(
        self,
        redis: AnyRedis,
        *,
        generation_seconds: float = GENERATION_SECONDS,
        pause_seconds: float = PAUSE_SECONDS,
    ) -> None:
        self._redis = redis
        self._batch = RedisBatch(redis)
        self._one_script = self._batch.script(ONE_SCRIPT, width=2)
        self._page_script = self._batch.script(PAGE_SCRIPT)
        self._generation_seconds = generation_seconds
        self._pause_seconds = pause_seconds
        self._generations: dict[str, tuple[int, float]] = {}
        self._paused_until = 0.0

    async def one(self, table: Table, id_key: int) -> Read | None:
        if self._paused():
            return None
        try:
            return await self._one(table, id_key)
        except REDIS_FAILURES as e:
            self._pause(e)
            return None

    async def page(self, page: Page) -> Read | None:
        if self._paused():
            return None
        try:
            return await self._page(page)
        except REDIS_FAILURES as e:
            self._pause(e)
            return None

    async def position(self, projection: str) -> int | None:
        """The applied position of the projection's live generation (None: unknown)."""
        if self._paused():
            return None
        try:
            generation = await self._generation(projection)
            (raw,) = await self._batch.mget(applied_key(projection, generation))
        except REDIS_FAILURES as e:
            self._pause(e)
            return None
        return None if raw is None else int(raw)

    async def _one(self, table: Table, id_key: int) -> Read | None:
        projection = PROJECTION_OF[table.name].name
        generation = await self._generation(projection)
        keys = [applied_key(projection, generation), f"{table.redis_prefix(generation)}docs"]
        applied, doc = await self._batch.run(self._one_script, keys, [id_key])
        if applied is None:  # flushed, being reloaded, or a generation no longer live
            self._generations.pop(projection, None)
        if applied is None or doc is None:
            return None
        return Read(cast("bytes", doc), "redis", int(applied))

    async def _page(self, page: Page) -> Read | None:
        table = page.table
        projection = PROJECTION_OF[table.name].name
        generation = await self._generation(projection)
        prefix = table.redis_prefix(generation)
        keys = [applied_key(projection, generation), f"{prefix}index", f"{prefix}docs"]
        args = [table.index_name(dict(page.filters)), page.skip, page.skip + page.limit - 1]
        found = await self._batch.run(self._page_script, keys, args, weight=page.limit)
        if found[0] is None:  # flushed, being reloaded, or a generation no longer live
            self._generations.pop(projection, None)
        if found[0] is None or len(found) < 3 or found[2] is None:  # noqa: PLR2004
            return None
        return Read(cast("bytes", found[2]), "redis", int(found[0]))

    async def _generation(self, projection: str) -> int:
        now = time.monotonic()
        cached = self._generations.get(projection)
        if cached is not None and cached[1] > now:
            return cached[0]
        (raw,) = await self._batch.mget(live_generation_key(projection))
        generation = 1 if raw is None else int(raw)
        self._generations[projection] = (generation, now + self._generation_seconds)
        return generation

    def _paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def _pause(self, e: Exception) -> None:
        if self._paused():  # the other reads of the same failed batch
            return
        log.warning(
            "redis failed (%s: %s); reading from PostgreSQL for %.1f s",
            type(e).__name__,
            e,
            self._pause_seconds,
        )
        self._paused_until = time.monotonic() + self._pause_seconds
