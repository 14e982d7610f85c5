"""Reads as the routes ask for them: Redis first, PostgreSQL when Redis cannot answer, and, for a
request carrying a consistency token, nothing older than the write the token names.

Read-your-writes: the token decodes to the global position of the write's last event; the feed
maps it to a feed position once the sequencer has taken it. A read is answered when the model
that serves it reflects at least that position: Redis if it has caught up, else PostgreSQL
(always at least as far, its rows move with its checkpoint), else both are asked again after a
short pause, until the wait runs out (503, never a stale answer).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from orders.consistency import position_of
from query_api.errors import BadParameterError, ProjectionBehindError
from query_api.postgres_source import PostgresSource
from query_api.reads import Page, Read
from query_api.redis_source import RedisSource
from readmodels.schema import PROJECTION_OF, Table

POLL_SECONDS = 0.01
TOKEN_HEADER = "X-Consistency-Token"  # noqa: S105 - a header name, not a secret


class ReadModels:
    def __init__(
        self, redis: RedisSource, postgres: PostgresSource, *, wait_seconds: float
    ) -> None:
        self.redis = redis
        self.postgres = postgres
        self.wait_seconds = wait_seconds

    async def one(self, table: Table, id_key: int, token: str | None = None) -> Read:
        return await self._read(
            table,
            lambda: self.redis.one(table, id_key),
            lambda: self.postgres.one(table, id_key),
            token,
        )

    async def page(self, page: Page, token: str | None = None) -> Read:
        return await self._read(
            page.table, lambda: self.redis.page(page), lambda: self.postgres.page(page), token
        )

    async def _read(
        self,
        table: Table,
        from_redis: Callable[[], Awaitable[Read | None]],
        from_postgres: Callable[[], Awaitable[Read]],
        token: str | None,
    ) -> Read:
        if token is None:
            return await from_redis() or await from_postgres()
        global_position = position_of(token)
        if global_position is None:
            raise BadParameterError(
                "header", TOKEN_HEADER, "not a token this platform issued", "invalid_token"
            )
        deadline = time.monotonic() + self.wait_seconds
        wanted: int | None = None
        reached: int | None = None
        while True:
            if wanted is None:  # not sequenced yet
                wanted = await self.postgres.feed_position(global_position)
            if wanted is not None:
                read = await self._at_least(wanted, from_redis, from_postgres)
                if read.position >= wanted:
                    return read
                reached = read.position
            if time.monotonic() >= deadline:
                raise ProjectionBehindError(PROJECTION_OF[table.name].name, wanted, reached)
            await asyncio.sleep(POLL_SECONDS)

    @staticmethod
    async def _at_least(
        wanted: int,
        from_redis: Callable[[], Awaitable[Read | None]],
        from_postgres: Callable[[], Awaitable[Read]],
    ) -> Read:
        """Redis if it has reached `wanted`, else PostgreSQL (never behind Redis)."""
        read = await from_redis()
        if read is None or read.position < wanted:
            read = await from_postgres()
        return read
