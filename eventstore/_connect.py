"""Connections: an async psycopg pool whose JSON goes through orjson, and the one place where
psycopg's errors become the store's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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


def open_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, application_name: str = "orders"
) -> AsyncConnectionPool:
    """An unopened pool; `await pool.open()` (or `async with`) connects."""
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, "application_name": application_name},
        configure=configure,
        open=False,
        timeout=10.0,
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


@asynccontextmanager
async def connection(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    with translated():
        async with pool.connection() as conn:
            yield conn


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
