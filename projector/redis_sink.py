"""The Redis sink: documents, their `pos` and their index sets, written by a script that skips
any document already at the same or a newer feed position, so that a replayed, retried or late
batch never moves a key back; then the generation's applied position, only ever forward.

Each script call is atomic for its documents: a reader sees a document together with its index
memberships. The applied position is set in a separate call after every document call of the
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
from readmodels.keys import mget
from readmodels.schema import Projection, Table, applied_key, live_generation_key

DOCS_PER_CALL = 500  # bounds how long one script call holds Redis
CALLS_PER_PIPELINE = 8

# KEYS[1]: the table's `pos` hash (it routes the call on a cluster); ARGV[1]: the table's key
# prefix in the generation; ARGV[2]: "1" when the generation is known to be empty
# (a bulk load: nothing to compare or unlink); then one document per argument, packed as
# "<id>\t<position>\t<index names, space-separated>\t<JSON>" (JSON "" deletes; JSON never holds
# a raw tab, and it comes last anyway). One argument per document keeps the client's cost of
# sending a batch low; the split costs Redis less than the arguments would cost the client.
WRITE = """
local prefix, empty = ARGV[1], ARGV[2] == '1'
local pos_key, sets_key = prefix .. 'pos', prefix .. 'sets'
local written = 0
for i = 3, #ARGV do
  local row = ARGV[i]
  local a = string.find(row, '\t', 1, true)
  local b = string.find(row, '\t', a + 1, true)
  local c = string.find(row, '\t', b + 1, true)
  local id, pos = string.sub(row, 1, a - 1), tonumber(string.sub(row, a + 1, b - 1))
  local names, doc = string.sub(row, b + 1, c - 1), string.sub(row, c + 1)
  local seen = not empty and redis.call('HGET', pos_key, id)
  if not seen or pos > tonumber(seen) then
    -- sets are written with pos and dropped before it: no pos, no sets to leave
    local held = seen and redis.call('HGET', sets_key, id)
    if not held then
      -- a new document (every one of a bulk load): its sets, no tables to compare them by
      for name in string.gmatch(names, '%S+') do
        redis.call('ZADD', prefix .. 'idx:' .. name, id, id)
      end
    elseif held ~= names then
      local new, old = {}, {}
      for name in string.gmatch(names, '%S+') do new[name] = true end
      for name in string.gmatch(held, '%S+') do
        old[name] = true
        if not new[name] then redis.call('ZREM', prefix .. 'idx:' .. name, id) end
      end
      for name in pairs(new) do
        if not old[name] then redis.call('ZADD', prefix .. 'idx:' .. name, id, id) end
      end
    end
    if doc == '' then
      redis.call('DEL', prefix .. 'doc:' .. id)
      redis.call('HDEL', sets_key, id)
    else
      redis.call('SET', prefix .. 'doc:' .. id, doc)
      if held ~= names then redis.call('HSET', sets_key, id, names) end
    end
    redis.call('HSET', pos_key, id, pos)
    written = written + 1
  end
end
return written
"""

# KEYS: applied keys; ARGV[1] position. Each only forward.
MARK_APPLIED = """
local to = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  if to > tonumber(redis.call('GET', key) or -1) then redis.call('SET', key, ARGV[1]) end
end
return #KEYS
"""

# KEYS[1] the hash to walk, a table's `pos` or `sets` in a generation (naming it routes the call
# to the node holding the generation's slot); ARGV[1] the table's key prefix, ARGV[2] cursor,
# ARGV[3] 'pos' or 'sets'. One HSCAN step of that hash: the documents of the ids in `pos`, or the
# sorted sets named in `sets`, are unlinked. Those are all of the generation's keys but the two
# hashes (an emptied sorted set is gone already), so a drop visits the generation's own keys, not
# the whole keyspace. Returns
# the next cursor and how many keys went.
DROP = """
local prefix, cursor, field = ARGV[1], ARGV[2], ARGV[3]
local found = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 1000)
local entries, doomed, seen = found[2], {}, {}
for i = 1, #entries, 2 do
  if field == 'pos' then
    doomed[#doomed + 1] = prefix .. 'doc:' .. entries[i]
  else
    for name in string.gmatch(entries[i + 1], '%S+') do
      if not seen[name] then
        seen[name] = true
        doomed[#doomed + 1] = prefix .. 'idx:' .. name
      end
    end
  end
end
local gone = 0
for i = 1, #doomed, 1000 do
  gone = gone + redis.call('UNLINK', unpack(doomed, i, math.min(i + 999, #doomed)))
end
return {found[1], gone}
"""

# KEYS[1] live key; ARGV[1] generation. Returns the generation it replaced (0: none).
PROMOTE = """
local held = tonumber(redis.call('GET', KEYS[1]) or 0)
if held ~= tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return held
"""


@dataclass(frozen=True, slots=True)
class Standing:
    applied: int | None  # the generation's applied position (None: no documents trusted)
    live: int | None  # the generation readers are pointed at (None: none yet)


class RedisSink:
    def __init__(self, redis: AnyRedis) -> None:
        self.redis = redis
        self._write = redis.register_script(WRITE)
        self._mark = redis.register_script(MARK_APPLIED)
        self._promote = redis.register_script(PROMOTE)
        self._drop = redis.register_script(DROP)

    async def write(
        self, generation: int, rows_by_table: dict[Table, list[Row]], *, empty: bool = False
    ) -> None:
        """Write rows (skipping any document already as new); `empty`: the generation holds
        none of them yet (a bulk load right after `drop`)."""
        calls: list[tuple[list[str], list[str | bytes]]] = []
        for table, rows in rows_by_table.items():
            prefix = table.redis_prefix(generation)
            head: list[str | bytes] = [prefix, "1" if empty else "0"]
            for start in range(0, len(rows), DOCS_PER_CALL):
                chunk = rows[start : start + DOCS_PER_CALL]
                calls.append(([f"{prefix}pos"], [*head, *(_packed(table, row) for row in chunk)]))
        # a pipeline at a time, each a bounded amount of work for Redis: sending a whole rebuild
        # batch at once would outlast the socket timeout while Redis is still running the first
        for first in range(0, len(calls), CALLS_PER_PIPELINE):
            await self._pipelined(calls[first : first + CALLS_PER_PIPELINE])

    async def _pipelined(self, calls: list[tuple[list[str], list[str | bytes]]]) -> None:
        """The write script's calls in one pipeline, by sha. A Redis without the script (new,
        restarted, flushed; on a cluster, any node) fails the calls it got; after loading it
        (on every node) the whole pipeline runs again: a call that went through skips its
        documents the second time (or, in a bulk load, writes the same keys again). By sha
        alone, not redis-py's script objects: a one-Redis pipeline of those asks SCRIPT EXISTS
        first, one more round trip per pipeline, and a cluster pipeline refuses them."""
        for attempt in range(2):
            async with self.redis.pipeline(transaction=False) as pipe:
                for keys, args in calls:
                    queue_evalsha(pipe, self._write.sha, keys, args)
                try:
                    await pipe.execute()
                except NoScriptError:
                    if attempt:
                        raise
                else:
                    return
            await self.redis.script_load(WRITE)

    async def applied(self, projection: Projection, generation: int) -> int | None:
        raw = await self.redis.get(applied_key(projection.name, generation))
        return None if raw is None else int(raw)

    async def standing(self, generations: Sequence[tuple[Projection, int]]) -> list[Standing]:
        """Where each generation stands in Redis: its applied position and the generation
        readers are pointed at, for all of them in one round trip."""
        keys = [
            k for p, g in generations for k in (applied_key(p.name, g), live_generation_key(p.name))
        ]
        raw = await mget(self.redis, keys)
        return [Standing(_int(raw[i]), _int(raw[i + 1])) for i in range(0, len(raw), 2)]

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

    async def forget_applied(self, projection: Projection, generation: int) -> None:
        """Readers stop trusting the generation's Redis documents (before they are reloaded)."""
        await self.redis.delete(applied_key(projection.name, generation))

    async def promote(self, projection: Projection, generation: int) -> int:
        """Point readers at `generation`; returns the generation they read before (0: none)."""
        held = await self._promote(keys=[live_generation_key(projection.name)], args=[generation])
        return int(held)

    async def load(self, generation: int, table: Table, rows: Sequence[Row]) -> None:
        """Bulk-write a generation's documents from PostgreSQL rows: the same script, in calls
        of many documents (one command per document would cost far more to send than to run)."""
        await self.write(generation, {table: list(rows)}, empty=True)

    async def drop(self, generations: Sequence[tuple[Projection, int]]) -> int:
        """Delete every key of some projections' generations: their applied positions first
        (readers let go), their `pos` hashes last (what `may_hold` looks at), everything else in
        between by a script that walks the generation's own hashes inside Redis (the keys never
        travel; the cost is the generation's keys, whatever else the keyspace holds). Returns
        how many keys went."""
        for projection, generation in generations:
            await self.forget_applied(projection, generation)
        generations = [(p, g) for p, g in generations if await self.may_hold(p, g)]
        dropped = 0
        for projection, number in generations:  # one hash slot each: every call stays on one node
            prefixes = [t.redis_prefix(number) for t in projection.tables]
            for prefix in prefixes:
                for field in ("pos", "sets"):
                    cursor: bytes | int | str = b"0"
                    while True:
                        walked = [f"{prefix}{field}"]
                        cursor, n = await self._drop(keys=walked, args=[prefix, cursor, field])
                        dropped += int(n)
                        if cursor in (b"0", 0, "0"):
                            break
            dropped += await self.redis.unlink(
                *(f"{p}{k}" for p in prefixes for k in ("sets", "pos"))
            )
        return dropped

    async def may_hold(self, projection: Projection, generation: int) -> bool:
        """Whether any key of the generation may exist: every document is written with its
        `pos` entry, and `drop` removes the `pos` hashes last."""
        keys = [f"{t.redis_prefix(generation)}pos" for t in projection.tables]
        return bool(await self.redis.exists(*keys))


def _int(raw: bytes | str | None) -> int | None:
    return None if raw is None else int(raw)


def _packed(table: Table, row: Row) -> bytes:
    if row.doc is None:
        return f"{row.id_key}\t{row.position}\t\t".encode()
    names = " ".join(table.index_names_of(row.filters))
    return f"{row.id_key}\t{row.position}\t{names}\t".encode() + row.doc
