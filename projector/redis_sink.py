"""The Redis sink: documents, their `pos` and their index entries, written by a script that skips
any document already at the same or a newer feed position, so that a replayed, retried or late
batch never moves a key back; then the generation's applied position, only ever forward.

Each script call is atomic for its documents: a reader sees a document together with its index
entries. The applied position is set in a separate call after every document call of the
batch has succeeded (a pipeline keeps running after a failed command, so it cannot be trusted
to stop there). A script builds its keys from a prefix it is given; every key of a projection's
generation carries the same hash tag (`readmodels.keys`), so on Redis Cluster they share a slot,
and the one key a call names in KEYS sends it to the node that holds them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import RedisCluster
from redis.exceptions import NoScriptError

from orders.redis_client import AnyRedis, queue_evalsha
from projector.changes import Row
from readmodels.keys import (
    ID_DIGITS,
    TABLE_KEYS,
    generation_pattern,
    mget,
    warming_key,
    writing_key,
)
from readmodels.schema import Projection, Table, applied_key, live_generation_key

DOCS_PER_CALL = 500  # bounds how long one script call holds Redis
CALLS_PER_PIPELINE = 8
SCAN_COUNT = 1000  # keys per SCAN step, and per UNLINK of what it found

# KEYS[1]: the table's `pos` hash (it routes the call on a cluster); ARGV[1]: the table's key
# prefix in the generation; ARGV[2]: "1" when the generation is known to be empty
# (a bulk load: nothing to compare, and the documents' entries go in a few commands); ARGV[3]
# and ARGV[4]: a lease's key and token, or "" (`Lease`: the call writes nothing and returns -1
# unless the key holds the token, so a warm that lost its lease stops); then one document per
# argument, packed as "<id>\t<position>\t<index names, space-separated>\t<JSON>"
# (JSON "" deletes; JSON never holds a raw tab, and it comes last anyway). One argument per
# document keeps the client's cost of sending a batch low; the split costs Redis less than the
# arguments would cost the client. The layout: `readmodels.keys`.
# A document's member of the table's `index`, as `readmodels.keys.index_member` spells it.
MEMBER = f"""
local function member(name, id)
  return name .. '\\0' .. string.rep('0', {ID_DIGITS} - #id) .. id
end
"""
WRITE = (
    MEMBER
    + """
local prefix, empty = ARGV[1], ARGV[2] == '1'
if ARGV[3] ~= '' and redis.call('GET', ARGV[3]) ~= ARGV[4] then return -1 end
local docs_key, pos_key = prefix .. 'docs', prefix .. 'pos'
local sets_key, index = prefix .. 'sets', prefix .. 'index'
local function each(command, key, list)  -- one command per slice: unpack has a stack limit
  for i = 1, #list, 4000 do
    redis.call(command, key, unpack(list, i, math.min(i + 3999, #list)))
  end
end
local docs, positions, sets, entries = {}, {}, {}, {}
local written = 0
for i = 5, #ARGV do
  local row = ARGV[i]
  local a = string.find(row, '\t', 1, true)
  local b = string.find(row, '\t', a + 1, true)
  local c = string.find(row, '\t', b + 1, true)
  local id, pos = string.sub(row, 1, a - 1), string.sub(row, a + 1, b - 1)
  local names, doc = string.sub(row, b + 1, c - 1), string.sub(row, c + 1)
  if empty then
    -- a bulk load: gathered here, written below in a few commands
    positions[#positions + 1] = id
    positions[#positions + 1] = pos
    if doc ~= '' then
      docs[#docs + 1] = id
      docs[#docs + 1] = doc
      sets[#sets + 1] = id
      sets[#sets + 1] = names
      for name in string.gmatch(names, '%S+') do
        entries[#entries + 1] = 0
        entries[#entries + 1] = member(name, id)
      end
    end
    written = written + 1
  else
    local seen = redis.call('HGET', pos_key, id)
    if not seen or tonumber(pos) > tonumber(seen) then
      -- sets are written with pos and dropped before it: no pos, no sets to leave
      local held = seen and redis.call('HGET', sets_key, id)
      if not held then
        for name in string.gmatch(names, '%S+') do
          redis.call('ZADD', index, 0, member(name, id))
        end
      elseif held ~= names then
        local new, old = {}, {}
        for name in string.gmatch(names, '%S+') do new[name] = true end
        for name in string.gmatch(held, '%S+') do
          old[name] = true
          if not new[name] then redis.call('ZREM', index, member(name, id)) end
        end
        for name in pairs(new) do
          if not old[name] then redis.call('ZADD', index, 0, member(name, id)) end
        end
      end
      if doc == '' then
        redis.call('HDEL', docs_key, id)
        redis.call('HDEL', sets_key, id)
      else
        redis.call('HSET', docs_key, id, doc)
        if held ~= names then redis.call('HSET', sets_key, id, names) end
      end
      redis.call('HSET', pos_key, id, pos)
      written = written + 1
    end
  end
end
each('HSET', docs_key, docs)
each('HSET', sets_key, sets)
each('ZADD', index, entries)
each('HSET', pos_key, positions)
return written
"""
)

# KEYS: applied keys; ARGV[1] position. Each only forward.
MARK_APPLIED = """
local to = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  if to > tonumber(redis.call('GET', key) or -1) then redis.call('SET', key, ARGV[1]) end
end
return #KEYS
"""

# KEYS[1] a lease; ARGV[1] its token, ARGV[2] milliseconds. Pushes the lease's expiry back if
# the token still holds it; returns whether it did.
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# KEYS[1] a lease, KEYS[2] an applied position; ARGV[1] the token, ARGV[2] the position. If the
# token still holds the lease: the position set (only forward), the lease let go; returns 1.
APPLIED_UNDER_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[2]) or -1) then
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('DEL', KEYS[1])
return 1
"""

# KEYS[1] live key; ARGV[1] generation. Returns the generation it replaced (0: none).
PROMOTE = """
local held = tonumber(redis.call('GET', KEYS[1]) or 0)
if held ~= tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return held
"""


@dataclass(frozen=True, slots=True)
class Lease:
    """A hold on loading one generation (`projector.warming`): its key holds `token` until it
    expires or is let go; writes under it check that it still does."""

    key: str
    token: str


class LeaseLostError(Exception):
    """The lease expired (its holder stalled past it) or was taken: the writes under it stop
    before touching anything, and whoever finds the generation unloaded loads it."""


@dataclass(frozen=True, slots=True)
class Standing:
    applied: int | None  # the generation's applied position (None: no documents trusted)
    live: int | None  # the generation readers are pointed at (None: none yet)
    writing: int | None  # the end of the last batch sent (`write`'s `batch_end`; None: none)
    warming: bool  # a rebuild holds its lease on loading the generation


class RedisSink:
    def __init__(self, redis: AnyRedis) -> None:
        self.redis = redis
        self._write = redis.register_script(WRITE)
        self._mark = redis.register_script(MARK_APPLIED)
        self._promote = redis.register_script(PROMOTE)
        self._renew = redis.register_script(RENEW)
        self._applied_under_lease = redis.register_script(APPLIED_UNDER_LEASE)

    async def write(
        self,
        generation: int,
        rows_by_table: dict[Table, list[Row]],
        *,
        empty: bool = False,
        batch_end: int | None = None,
        lease: Lease | None = None,
    ) -> None:
        """Write rows (skipping any document already as new); `empty`: the generation holds
        none of them yet (a bulk load right after `drop`). `batch_end`: the end of the feed
        batch the rows come from, recorded in the generation's writing key ahead of its first
        document, in the same pipeline (Redis runs a connection's commands in order): past its
        applied position, the generation then holds documents of that batch only, and a replay
        from the applied position stops there to write the same ones again. `lease`: write
        only while it holds (`LeaseLostError` otherwise)."""
        calls: list[tuple[list[str], list[str | bytes]]] = []
        guard = ["", ""] if lease is None else [lease.key, lease.token]
        for table, rows in rows_by_table.items():
            prefix = table.redis_prefix(generation)
            head: list[str | bytes] = [prefix, "1" if empty else "0", *guard]
            for start in range(0, len(rows), DOCS_PER_CALL):
                chunk = rows[start : start + DOCS_PER_CALL]
                calls.append(([f"{prefix}pos"], [*head, *(_packed(table, row) for row in chunk)]))
        marks = []
        if batch_end is not None and calls:
            projection = next(iter(rows_by_table)).projection
            marks = [(writing_key(projection, generation), batch_end)]
        # a pipeline at a time, each a bounded amount of work for Redis: sending a whole rebuild
        # batch at once would outlast the socket timeout while Redis is still running the first
        for first in range(0, len(calls), CALLS_PER_PIPELINE):
            await self._pipelined(calls[first : first + CALLS_PER_PIPELINE], marks)
            marks = []

    async def _pipelined(
        self, calls: list[tuple[list[str], list[str | bytes]]], marks: list[tuple[str, int]]
    ) -> None:
        """The write script's calls in one pipeline, by sha. A Redis without the script (new,
        restarted, flushed; on a cluster, any node) fails the calls it got; after loading it
        (on every node) the whole pipeline runs again: a call that went through skips its
        documents the second time (or, in a bulk load, writes the same keys again). By sha
        alone, not redis-py's script objects: a one-Redis pipeline of those asks SCRIPT EXISTS
        first, one more round trip per pipeline, and a cluster pipeline refuses them."""
        for attempt in range(2):
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value in marks:
                    pipe.set(key, value)
                for keys, args in calls:
                    queue_evalsha(pipe, self._write.sha, keys, args)
                try:
                    written = await pipe.execute()
                except NoScriptError:
                    if attempt:
                        raise
                else:
                    if -1 in written:
                        raise LeaseLostError("the lease on the generation is no longer held")
                    return
            await self.redis.script_load(WRITE)

    async def standing(self, generations: Sequence[tuple[Projection, int]]) -> list[Standing]:
        """Where each generation stands in Redis: its applied position, the generation readers
        are pointed at and the end of the last batch sent, for all of them in one round trip."""
        keys = [
            k
            for p, g in generations
            for k in (applied_key(p.name, g), live_generation_key(p.name), writing_key(p.name, g),
                      warming_key(p.name, g))
        ]  # fmt: skip
        raw = await mget(self.redis, keys)
        return [
            Standing(_int(raw[i]), _int(raw[i + 1]), _int(raw[i + 2]), raw[i + 3] is not None)
            for i in range(0, len(raw), 4)
        ]

    async def mark_applied(self, projection: Projection, generation: int, position: int) -> None:
        await self.mark_all_applied([(projection, generation)], position)

    async def mark_all_applied(
        self, generations: Sequence[tuple[Projection, int]], position: int
    ) -> None:
        """Move the applied position of several generations (each only forward) in one call: a
        batch moves every followed projection, whether its types had events in it or not."""
        keys = [applied_key(p.name, g) for p, g in generations]
        if isinstance(self.redis, RedisCluster):  # a script's keys must share a slot: one each
            for key in keys:
                await self._mark(keys=[key], args=[position])
        elif keys:
            await self._mark(keys=keys, args=[position])

    async def promote(self, projection: Projection, generation: int) -> int:
        """Point readers at `generation`; returns the generation they read before (0: none)."""
        held = await self._promote(keys=[live_generation_key(projection.name)], args=[generation])
        return int(held)

    async def load(
        self, generation: int, table: Table, rows: Sequence[Row], *, lease: Lease | None = None
    ) -> None:
        """Bulk-write a generation's documents from PostgreSQL rows: the same script, in calls
        of many documents (one command per document would cost far more to send than to run)."""
        await self.write(generation, {table: list(rows)}, empty=True, lease=lease)

    async def take_lease(
        self, projection: Projection, generation: int, token: str, milliseconds: int
    ) -> Lease:
        """Hold the generation for loading it (`projector.warming`) for `milliseconds`."""
        lease = Lease(warming_key(projection.name, generation), token)
        await self.redis.set(lease.key, token, px=milliseconds)
        return lease

    async def renew(self, lease: Lease, milliseconds: int) -> bool:
        """Push the lease's expiry back; False: it is no longer held."""
        return bool(await self._renew(keys=[lease.key], args=[lease.token, milliseconds]))

    async def mark_applied_under(
        self, lease: Lease, projection: Projection, generation: int, position: int
    ) -> bool:
        """Mark the generation applied at `position` and let the lease go, if it still holds
        (False: it did not, and nothing changed)."""
        keys = [lease.key, applied_key(projection.name, generation)]
        return bool(await self._applied_under_lease(keys=keys, args=[lease.token, position]))

    async def drop(self, generations: Sequence[tuple[Projection, int]]) -> int:
        """Delete some projections' generations: a few keys per table (`readmodels.keys`), in
        one UNLINK per generation with its applied position, so a reader sees all of it or
        none, and Redis frees the documents in its background thread. Returns how many keys
        went."""
        dropped = 0
        for projection, generation in generations:  # one hash slot each: one node per call
            prefixes = [t.redis_prefix(generation) for t in projection.tables]
            doomed = [applied_key(projection.name, generation),
                      writing_key(projection.name, generation),
                      warming_key(projection.name, generation)]  # fmt: skip
            doomed += [f"{prefix}{key}" for prefix in prefixes for key in TABLE_KEYS]
            dropped += await self.redis.unlink(*doomed)
        return dropped

    async def clear(self, projection: Projection, generation: int) -> int:
        """Delete every key of a generation, whatever layout wrote it: a reload's first step.
        `drop` first (readers let go at once), then whatever else matches the generation's
        pattern: after a layout change, the older layout's keys. Returns how many keys went.
        The SCAN walks this Redis's whole keyspace (the queue's and the rate limiter's keys too,
        when they share it): a cost per reload, which is rare (Redis flushed, lost or far
        behind), never per write or per rebuild."""
        dropped = await self.drop([(projection, generation)])
        pattern = generation_pattern(projection.name, generation)
        doomed: list[bytes] = []
        async for key in self.redis.scan_iter(match=pattern, count=SCAN_COUNT):
            doomed.append(key)
            if len(doomed) == SCAN_COUNT:
                dropped += await self.redis.unlink(*doomed)
                doomed.clear()
        if doomed:
            dropped += await self.redis.unlink(*doomed)
        return dropped


def _int(raw: bytes | str | None) -> int | None:
    return None if raw is None else int(raw)


def _packed(table: Table, row: Row) -> bytes:
    if row.doc is None:
        return f"{row.id_key}\t{row.position}\t\t".encode()
    names = " ".join(table.index_names_of(row.filters))
    return f"{row.id_key}\t{row.position}\t{names}\t".encode() + row.doc
