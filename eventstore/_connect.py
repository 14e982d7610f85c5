"""Connections: an async psycopg pool whose JSON goes through orjson and which fails fast while
the database cannot be reached, and the one place where psycopg's errors become the store's
own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from eventstore._errors import (
    AppendOnlyViolationError,
    EventStoreError,
    InvalidAppendError,
    StoreUnavailableError,
    UniqueClaimTakenError,
    WrongExpectedVersionError,
)


async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_dumps(orjson.dumps, conn)
    set_json_loads(orjson.loads, conn)


# How long a caller waits for a connection while the database is known to be unreachable.
OUTAGE_TIMEOUT = 0.5
# How long the pool retries a lost connection before it gives up on it (psycopg_pool's default is
# 5 minutes, its pauses doubling to a minute and more): a caller then has it connect again at
# once, so the pool is back within seconds of the database, whatever the outage lasted.
RECONNECT_TIMEOUT = 5.0


class StorePool(AsyncConnectionPool):
    """A pool that stops making callers wait for a database that is gone.

    psycopg_pool keeps a caller waiting up to `timeout` (10 s) for a connection, which is right
    when every connection is busy, and wrong when the server is down: then every write waits
    all of it for a 503 that is certain, and clients with shorter timeouts see a timeout. From
    a connection coming back broken, or a wait that timed out, until a caller gets a connection
    again, callers wait OUTAGE_TIMEOUT at most. The pool reconnects by itself meanwhile.
    """

    _outage = False

    async def getconn(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - psycopg_pool's signature, overridden
    ) -> psycopg.AsyncConnection[Any]:
        if timeout is None and self._outage:
            timeout = min(self.timeout, OUTAGE_TIMEOUT)
        try:
            conn = await super().getconn(timeout)
        except PoolTimeout:
            self._outage = True
            raise
        self._outage = False
        return conn

    async def putconn(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if conn.broken:  # the server went away under it (or ended this backend)
            self._outage = True
        await super().putconn(conn)


def open_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, application_name: str = "orders"
) -> AsyncConnectionPool:
    """An unopened pool; `await pool.open()` (or `async with`) connects."""
    return StorePool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, "application_name": application_name},
        configure=configure,
        open=False,
        timeout=10.0,
        reconnect_timeout=RECONNECT_TIMEOUT,
    )


@contextmanager
def translated() -> Iterator[None]:
    """Turn psycopg's errors into the store's exception tree."""
    try:
        yield
    except psycopg.Error as e:
        raise _translate(e) from e
    except PoolTimeout as e:
        raise StoreUnavailableError(f"no database connection available: {e}") from e


# The connection a task holds through `connection()`, and its pool. A call on the same pool made
# while it is held, by the same task, gets the same connection: the read paths open sealed data
# (the vault reads data keys through the store) before they give theirs back, and a second
# connection taken then would, with the pool busy, wait for connections held by readers that all
# wait the same way: every reader stuck until the pool's timeout. Tasks started meanwhile hold
# a copy of this variable, hence the task in it: they take their own.
_HELD: ContextVar[tuple[AsyncConnectionPool, asyncio.Task[Any], psycopg.AsyncConnection[Any]]] = (
    ContextVar("eventstore_held_connection")
)


@asynccontextmanager
async def connection(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    task = asyncio.current_task()
    held = _HELD.get(None)
    if held is not None and held[0] is pool and held[1] is task and task is not None:
        yield held[2]
        return
    with translated():
        async with pool.connection() as conn:
            token = _HELD.set((pool, task, conn)) if task is not None else None
            try:
                yield conn
            finally:
                if token is not None:
                    _HELD.reset(token)


def _translate(e: psycopg.Error) -> EventStoreError:
    state = e.sqlstate or ""
    detail = e.diag.message_detail or "{}"
    if state == "ES001":
        info = orjson.loads(detail)
        expected = {-1: "any", 0: "no_stream"}.get(info["expected"], info["expected"])
        return WrongExpectedVersionError(info["stream_id"], expected, info["actual"])
    if state == "ES002":
        info = orjson.loads(detail)
        return UniqueClaimTakenError(info["scope"], info["value"], info["owner"])
    if state == "ES003":
        return AppendOnlyViolationError(e.diag.message_primary or str(e))
    if state.startswith("22"):  # data exceptions: e.g. a \u0000 that jsonb cannot hold
        return InvalidAppendError(f"the database refused a value: {e.diag.message_primary}")
    if isinstance(e, psycopg.OperationalError) or state.startswith(("08", "57")):
        return StoreUnavailableError(f"database unavailable: {e}")
    return EventStoreError(f"database error {state}: {e.diag.message_primary or e}")
