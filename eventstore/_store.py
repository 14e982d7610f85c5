"""`EventStore`: the pool, the upcaster, the unsealer, and the operations, each translated at
this boundary."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg_pool import AsyncConnectionPool

from eventstore import _append, _chain, _copy, _keys, _pages, _read, _sequencer, _tails
from eventstore._connect import connection, open_pool, translated
from eventstore._errors import EventStoreError
from eventstore._model import (
    JSON,
    Appended,
    AppendResult,
    Claim,
    DataKey,
    FeedHead,
    FeedIdentity,
    FeedPage,
    FeedStatus,
    Idempotency,
    Mention,
    RecordedEvent,
    StreamAppend,
    StreamEntry,
    StreamRange,
    StreamTail,
    Tail,
    VerifyReport,
)
from eventstore._read import Unseal, Upcast, no_unseal, no_upcast

_SEQUENCE_NAME = re.compile(r"[a-z][a-z_]{0,40}")


class EventStore:
    def __init__(
        self, pool: AsyncConnectionPool, upcast: Upcast = no_upcast, unseal: Unseal = no_unseal
    ) -> None:
        self.pool = pool
        self.upcast = upcast
        self.unseal = unseal

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        upcast: Upcast = no_upcast,
        unseal: Unseal = no_unseal,
        min_size: int = 1,
        max_size: int = 10,
        application_name: str = "orders",
    ) -> Self:
        pool = open_pool(
            url, min_size=min_size, max_size=max_size, application_name=application_name
        )
        await pool.open()
        return cls(pool, upcast, unseal)

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        claims: Sequence[Claim] = (),
        releases: Sequence[Claim] = (),
    ) -> AppendResult:
        """Append to one or more streams atomically, each at its expected version."""
        # `connection()` spelled out: the hottest path skips one async context manager layer
        with translated():
            async with self.pool.connection() as conn:
                return await _append.append(conn, appends, claims, releases)

    async def append_idempotent(
        self,
        idempotency: Idempotency,
        appends: Sequence[StreamAppend],
        *,
        claims: Sequence[Claim] = (),
        releases: Sequence[Claim] = (),
    ) -> Appended:
        """As `append`, recorded under an idempotency key: a retry returns the first response."""
        async with connection(self.pool) as conn:
            return await _append.append_idempotent(conn, idempotency, appends, claims, releases)

    async def idempotent_response(self, key: str, fingerprint: bytes) -> bytes | None:
        """The response stored under an idempotency key, if any; a different request under the
        same key is refused."""
        async with connection(self.pool) as conn:
            return await _append.stored_response(conn, key, fingerprint)

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
        with_feed_positions: bool = False,
    ) -> list[RecordedEvent]:
        async with connection(self.pool) as conn:
            return await _read.read_stream(
                conn,
                self.upcast,
                self.unseal,
                stream_id,
                to_version=to_version,
                as_of=as_of,
                with_feed_positions=with_feed_positions,
            )

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        async with connection(self.pool) as conn:
            return await _read.read_streams(conn, self.upcast, self.unseal, stream_ids)

    async def read_feed(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        async with connection(self.pool) as conn:
            return await _read.read_feed(conn, self.upcast, self.unseal, after, limit)

    async def read_tails(self, tails: Sequence[Tail]) -> dict[str, StreamTail]:
        """Several streams, each from where the reader holds it (or its newest usable snapshot)
        to its end or `upto`, in one round trip."""
        async with connection(self.pool) as conn:
            return await _tails.read_tails(conn, self.upcast, self.unseal, tails)

    async def stream_versions(self, stream_ids: Sequence[str]) -> dict[str, int]:
        """Each stream's current version (0: none yet), in one round trip."""
        async with connection(self.pool) as conn:
            return await _tails.read_versions(conn, stream_ids)

    async def save_snapshots(self, snapshots: Sequence[tuple[str, str, int, JSON]]) -> None:
        """(stream, fingerprint, version, state) each; a newer snapshot is never replaced."""
        async with connection(self.pool) as conn:
            await _tails.save_snapshots(conn, snapshots)

    async def delete_snapshots(self, stream_ids: Sequence[str]) -> int:
        async with connection(self.pool) as conn:
            return await _tails.delete_snapshots(conn, stream_ids)

    async def read_data_keys(self, subjects: Sequence[str]) -> dict[str, list[DataKey]]:
        """Every generation of each subject's data key (wrapped; None once destroyed)."""
        async with connection(self.pool) as conn:
            return await _keys.read_keys(conn, subjects)

    async def create_data_keys(self, wrapped: Mapping[str, bytes], master_id: str) -> None:
        """Each subject's next key generation, in one round trip (or one another writer made at
        the same time: read the keys again)."""
        async with connection(self.pool) as conn:
            await _keys.create_keys(conn, wrapped, master_id)

    async def destroy_data_keys(self, subject: str) -> int:
        async with connection(self.pool) as conn:
            return await _keys.destroy_keys(conn, subject)

    async def read_live_keys(self) -> list[DataKey]:
        async with connection(self.pool) as conn:
            return await _keys.read_all_keys(conn)

    async def rewrap_keys(self, keys: Sequence[DataKey]) -> int:
        async with connection(self.pool) as conn:
            return await _keys.rewrap(conn, keys)

    # --- filling a new store from an old one (`orders store copy`; see `_copy`) ---------------

    async def insert_copies(self, events: Sequence[RecordedEvent]) -> None:
        """Another store's events, in its feed order, in one transaction (then `sequence`)."""
        async with connection(self.pool) as conn:
            await _copy.insert_copies(conn, events)

    async def last_copied(self) -> tuple[str, int] | None:
        """(database, feed position) the newest event was copied from; None when empty."""
        async with connection(self.pool) as conn:
            return await _copy.last_copied(conn)

    async def read_keys_page(self, after: tuple[str, int], limit: int) -> list[DataKey]:
        async with connection(self.pool) as conn:
            return await _copy.read_keys_page(conn, after, limit)

    async def insert_keys(self, keys: Sequence[DataKey]) -> None:
        async with connection(self.pool) as conn:
            await _copy.insert_keys(conn, keys)

    async def read_claims_page(self, after: tuple[str, str], limit: int) -> list[Claim]:
        async with connection(self.pool) as conn:
            return await _copy.read_claims_page(conn, after, limit)

    async def insert_claims(self, claims: Sequence[Claim]) -> None:
        async with connection(self.pool) as conn:
            await _copy.insert_claims(conn, claims)

    async def id_sequences(self) -> dict[str, int]:
        async with connection(self.pool) as conn:
            return await _copy.read_id_sequences(conn)

    async def advance_id_sequences(self, last: dict[str, int]) -> None:
        async with connection(self.pool) as conn:
            await _copy.advance_id_sequences(conn, last)

    async def responses_of(self, stream_id: str) -> dict[str, bytes]:
        """The stored idempotent responses written for appends to a stream, by key."""
        async with connection(self.pool) as conn:
            return await _append.responses_of(conn, stream_id)

    async def replace_responses(self, responses: Mapping[str, bytes]) -> None:
        async with connection(self.pool) as conn:
            await _append.replace_responses(conn, responses)

    async def read_feed_page(
        self, after: int, upto: int, *, stream_types: Sequence[str], limit: int
    ) -> FeedPage:
        """The feed's events of `stream_types` after `after` and at most `upto` (what a
        projection reads: its checkpoint passes the positions of other types too)."""
        async with connection(self.pool) as conn:
            return await _pages.read_page(
                conn, self.upcast, self.unseal, after, upto, stream_types=stream_types, limit=limit
            )

    async def read_feed_identities(
        self, after: int, upto: int, *, stream_types: Sequence[str], limit: int
    ) -> list[FeedIdentity]:
        """Which events `read_feed_page` would return (position, id, stream, type), without
        their data: what names an event whose data cannot be read."""
        async with connection(self.pool) as conn:
            return await _pages.read_identities(
                conn, after, upto, stream_types=stream_types, limit=limit
            )

    async def read_stream_entries(self, up_to: Mapping[str, int]) -> dict[str, list[StreamEntry]]:
        """Streams from their first event up to a version each, with feed positions."""
        async with connection(self.pool) as conn:
            return await _pages.read_entries(conn, self.upcast, self.unseal, up_to)

    async def read_by_stream(
        self,
        stream_type: str,
        chunk: int,
        *,
        start: str | None = None,
        stop: str | None = None,
        through: str | None = None,
    ) -> AsyncGenerator[list[tuple[str, StreamEntry]], None]:
        """Every event of a stream type (of the streams with `start` <= id < `stop` and
        id <= `through`, where given), stream after stream, each in version order with its
        feed position (None: not sequenced yet), `chunk` events at a time: what a rebuild loads
        a projection (or a part of it) from, holding one chunk whatever the number of streams.
        Its cost is the streams in those bounds: give them (`stream_ranges`) when the type is
        one of several. Close it (e.g. `contextlib.aclosing`) when leaving it before its end."""
        # a connection of its own, not the task's held one (`connection`): a generator that
        # set the task's context variable would leave it set for its caller between chunks
        with translated():
            async with self.pool.connection() as conn:
                async for entries in _pages.read_by_stream(
                    conn, self.upcast, self.unseal, stream_type, chunk,
                    start=start, stop=stop, through=through,
                ):  # fmt: skip
                    yield entries

    async def stream_ranges(self, stream_type: str, parts: int) -> list[StreamRange]:
        """A stream type's streams cut into at most `parts` runs of consecutive ids with about
        as many events each, in id order (none: no stream of the type). A stream created after
        the cut may sort between two runs: a reader that must see every stream reads from one
        run's first id up to the next one's (`read_by_stream`), the first from the start. One
        that reads as of a feed position taken before the cut needs no stream sorting outside
        the runs: such a stream was created after the cut, so none of its events is in the
        feed up to that position; it reads from the first run's first id through the last
        run's last, and walks none of the other types' streams."""
        async with connection(self.pool) as conn:
            return await _pages.read_stream_ranges(conn, stream_type, parts)

    async def feed_head(self) -> FeedHead:
        async with connection(self.pool) as conn:
            return await _pages.read_head(conn)

    async def feed_hash(self, position: int) -> bytes | None:
        """The feed's hash at `position`; None when the feed does not reach it."""
        async with connection(self.pool) as conn:
            return await _pages.read_hash(conn, position)

    async def feed_hashes(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The feed's hash at each of `positions` it reaches (what signed checkpoints are
        compared with); positions past the head are left out."""
        async with connection(self.pool) as conn:
            return await _pages.read_hashes(conn, positions)

    async def recorded_at(self, positions: Sequence[int]) -> dict[int, datetime]:
        """When the events at these feed positions were recorded (those the feed reaches)."""
        async with connection(self.pool) as conn:
            return await _pages.read_recorded(conn, positions)

    async def feed_position_of(self, global_position: int) -> int | None:
        """The feed position the sequencer gave an event (None: not sequenced yet)."""
        async with connection(self.pool) as conn:
            return await _pages.read_feed_position(conn, global_position)

    async def streams_mentioning(self, stream_type: str, mentions: Sequence[Mention]) -> list[str]:
        async with connection(self.pool) as conn:
            return await _pages.read_mentioning(conn, stream_type, mentions)

    @asynccontextmanager
    async def connection(
        self, pool_wait: float | None = None
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection (autocommit) for the store's neighbours' own tables (read models,
        checkpoints) in the same database; errors inside come out as the store's own. `pool_wait`:
        how long to wait for a free connection (the pool's own timeout when None)."""
        with translated():
            async with self.pool.connection(timeout=pool_wait) as conn:
                yield conn

    async def claim_owner(self, scope: str, value: str) -> str | None:
        """The stream holding a unique value (or a locator such as an order line's id)."""
        async with connection(self.pool) as conn:
            cur = await conn.execute(
                "SELECT owner_stream FROM unique_claims WHERE scope = %s AND value = %s",
                (scope, value),
                prepare=True,
            )
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def next_id(self, kind: str) -> int:
        """A fresh integer id for an entity type, from its own sequence."""
        if not _SEQUENCE_NAME.fullmatch(kind):
            raise EventStoreError(f"bad id sequence name {kind!r}")
        async with connection(self.pool) as conn:
            cur = await conn.execute("SELECT nextval(%s)", (f"id_{kind}",), prepare=True)
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def next_ids(self, kind: str, count: int) -> list[int]:
        """`count` fresh ids for an entity type, in one round trip."""
        if not _SEQUENCE_NAME.fullmatch(kind):
            raise EventStoreError(f"bad id sequence name {kind!r}")
        async with connection(self.pool) as conn:
            cur = await conn.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", (f"id_{kind}", count),
                prepare=True,
            )  # fmt: skip
            return [int(row[0]) for row in await cur.fetchall()]

    async def sequence(self, batch: int = 2000, max_events: int = 0) -> int:
        """Run the sequencer until it is caught up with the horizon; return events sequenced."""
        async with connection(self.pool) as conn:
            return await _sequencer.sequence(conn, batch, max_events)

    async def feed_status(self) -> FeedStatus:
        async with connection(self.pool) as conn:
            return await _sequencer.status(conn)

    async def verify(self, first: int = 1, last: int | None = None) -> VerifyReport:
        async with connection(self.pool) as conn:
            return await _chain.verify(conn, first, last)
