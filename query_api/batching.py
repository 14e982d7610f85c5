"""One round trip for many requests: the Redis reads a worker starts in the same event-loop turn
go to Redis together: the plain gets (live generations, applied positions) merged into one
MGET, the calls of a script (a document, a page) into one run of it, in one pipeline when there
are several.

Under load a worker has dozens of requests in flight, and each command costs the Redis client far
more CPU than the bytes it moves; coalescing them is what keeps the hot path near a bare
endpoint, on a handful of connections. A lone request pays nothing: its read leaves on the next
turn of the loop. Each request still gets the values of its own keys from one atomic command (an
MGET, or its script), so what it reads together stays consistent. A failure reaches every request
of the batch, and each one then asks PostgreSQL.

A script run through here is written for it: it takes its calls' KEYS and ARGV concatenated (a
fixed number of each per call) and returns one result per call, in order, or `width` values per
call in one flat list (a flat reply is cheaper to parse than one list per call).

On Redis Cluster a command's keys must share a slot: the gets are merged into one MGET per slot
and a script's calls into one run per slot (the keys a request reads together share a hash tag,
`readmodels.keys`), all in one pipeline, which the cluster client splits by node. On one Redis
every key counts as slot 0, so nothing changes there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import RedisCluster
from redis.crc import key_slot
from redis.exceptions import NoScriptError

from orders.redis_client import AnyRedis, queue_evalsha

MAX_KEYS = 1000  # keys per MGET: a huge batch is split rather than held up
# Summed weight (a page: its limit) per script run: a script blocks Redis while it runs, so a
# turn with many large pages runs it several times, in the same pipeline.
MAX_WEIGHT = 1000


@dataclass(frozen=True, slots=True)
class Script:
    source: str
    sha: str
    width: int  # values per call in its flat result (1: one result per call)


@dataclass(frozen=True, slots=True)
class _Call:
    keys: Sequence[Any]
    args: Sequence[Any]
    future: asyncio.Future[Any]
    weight: int = 1


@dataclass(slots=True)
class _Run:
    script: Script
    slot: int
    calls: list[_Call]
    weight: int = 0  # the calls' summed weight


@dataclass
class _Batch:
    gets: list[_Call]
    runs: list[_Run]

    def futures(self) -> list[asyncio.Future[Any]]:
        return [c.future for c in self.gets] + [c.future for r in self.runs for c in r.calls]


class RedisBatch:
    def __init__(self, redis: AnyRedis) -> None:
        self._redis = redis
        self._cluster = isinstance(redis, RedisCluster)
        self._next = _Batch([], [])
        self._sending: set[asyncio.Task[None]] = set()

    def script(self, source: str, *, width: int = 1) -> Script:
        return Script(source, self._redis.register_script(source).sha, width)

    async def mget(self, *keys: str) -> list[Any]:
        """The values of `keys` (None for a missing key)."""
        future = self._enqueue()
        self._next.gets.append(_Call(keys, (), future))
        return await future  # type: ignore[no-any-return]

    async def run(
        self, script: Script, keys: Sequence[str], args: Sequence[Any], weight: int = 1
    ) -> Any:
        """This call's result of `script` (run together with the other calls of the turn)."""
        future = self._enqueue()
        slot = self._slot(keys[0]) if keys else 0
        runs = self._next.runs
        last = next((r for r in reversed(runs) if r.script is script and r.slot == slot), None)
        if last is None or last.weight + weight > MAX_WEIGHT:
            last = _Run(script, slot, [])
            runs.append(last)
        last.calls.append(_Call(keys, args, future, weight))
        last.weight += weight
        return await future

    def _slot(self, key: str) -> int:
        return key_slot(key.encode()) if self._cluster else 0

    def _enqueue(self) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if not self._next.gets and not self._next.runs:
            loop.call_soon(self._flush)  # after every request that is ready in this turn
        return loop.create_future()

    def _flush(self) -> None:
        batch, self._next = self._next, _Batch([], [])
        chunks = [_Batch([], batch.runs)]
        size = 0
        for get in batch.gets:
            if size + len(get.keys) > MAX_KEYS and chunks[-1].gets:
                chunks.append(_Batch([], []))
                size = 0
            chunks[-1].gets.append(get)
            size += len(get.keys)
        for chunk in chunks:
            task = asyncio.ensure_future(self._send(chunk))
            self._sending.add(task)  # keep a reference until it is done
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: _Batch) -> None:
        try:
            found, results = await self._execute(batch)
        except Exception as e:  # noqa: BLE001 - whatever it is, each request decides what to do
            for future in batch.futures():
                _settle(future, e)
            return
        except BaseException:  # cancelled (shutting down): so are the requests waiting on it
            for future in batch.futures():
                future.cancel()
            raise
        start = 0
        for get in batch.gets:
            _settle(get.future, found[start : start + len(get.keys)])
            start += len(get.keys)
        for run, result in zip(batch.runs, results, strict=True):
            if isinstance(result, NoScriptError):  # Redis restarted or flushed its scripts
                result = await self._load_and_run(run.script, run.calls)  # noqa: PLW2901
            for call, value in zip(
                run.calls, _spread(result, len(run.calls), run.script.width), strict=True
            ):
                _settle(call.future, value)

    async def _execute(self, batch: _Batch) -> tuple[list[Any], list[Any]]:
        """The values of the gets' keys in order, and each run's result."""
        by_slot: dict[int, list[str]] = {}
        for key in (key for get in batch.gets for key in get.keys):
            by_slot.setdefault(self._slot(key), []).append(key)
        if not batch.runs and len(by_slot) <= 1:
            keys = next(iter(by_slot.values()), [])
            return (await self._redis.mget(keys) if keys else []), []
        if not by_slot and len(batch.runs) == 1:  # most turns: one script's calls, no pipeline
            run = batch.runs[0]
            keys, args = _arguments(run.calls)
            try:
                return [], [await self._redis.evalsha(run.script.sha, len(keys), *keys, *args)]
            except NoScriptError as e:
                return [], [e]
        async with self._redis.pipeline(transaction=False) as pipe:
            for (
                keys
            ) in by_slot.values():  # the command, not the method the cluster's pipeline blocks
                pipe.execute_command("MGET", *keys)
            for run in batch.runs:
                queue_evalsha(pipe, run.script.sha, *_arguments(run.calls))
            results: list[Any] = await pipe.execute(raise_on_error=False)
        values: dict[str, Any] = {}
        for keys, found in zip(by_slot.values(), results, strict=False):
            if isinstance(found, Exception):
                raise found
            values.update(zip(keys, found, strict=True))
        ordered = [values[key] for get in batch.gets for key in get.keys]
        return ordered, results[len(by_slot) :]

    async def _load_and_run(self, script: Script, calls: list[_Call]) -> Any:
        try:
            await self._redis.script_load(script.source)
            keys, args = _arguments(calls)
            return await self._redis.evalsha(script.sha, len(keys), *keys, *args)
        except Exception as e:  # noqa: BLE001 - handed to the requests that asked
            return e


def _arguments(calls: list[_Call]) -> tuple[list[Any], list[Any]]:
    """The KEYS and ARGV of one run of a script for several calls."""
    keys = [key for call in calls for key in call.keys]
    return keys, [arg for call in calls for arg in call.args]


def _spread(result: Any, calls: int, width: int) -> list[Any]:
    """One value per call: the script's results (`width` of them a call, as a list), or its
    error for each."""
    if isinstance(result, Exception):
        return [result] * calls
    if width == 1:
        return list(result)
    return [result[i : i + width] for i in range(0, len(result), width)]


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if future.done():  # a request cancelled meanwhile
        return
    if isinstance(value, BaseException):
        future.set_exception(value)
    else:
        future.set_result(value)
