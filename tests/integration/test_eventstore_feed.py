from __future__ import annotations

import asyncio
import random

import psycopg
import pytest

from eventstore import (
    AppendOnlyViolationError,
    EventStore,
    Expect,
    NewEvent,
    StreamAppend,
)
from eventstore._append import append as append_on
from eventstore._connect import _translate, configure

pytestmark = pytest.mark.integration


def ev(**data: object) -> NewEvent:
    return NewEvent(type="Happened", data=data)


async def test_the_feed_numbers_committed_events_from_one_with_a_verified_chain(
    store: EventStore,
) -> None:
    for i in range(5):
        await store.append([StreamAppend(f"order-{i % 2}", Expect.ANY, [ev(i=i)])])
    assert await store.sequence() == 5
    assert await store.sequence() == 0
    feed = await store.read_feed()
    assert [e.feed_position for e in feed] == [1, 2, 3, 4, 5]
    assert [e.data["i"] for e in feed] == [0, 1, 2, 3, 4]
    report = await store.verify()
    assert (report.ok, report.checked) == (True, 5)
    assert [e.data["i"] for e in await store.read_feed(after=3, limit=1)] == [3]


async def test_a_late_commit_with_a_lower_position_is_never_skipped(
    store: EventStore, database_url: str
) -> None:
    early = await psycopg.AsyncConnection.connect(database_url, application_name="slow-writer")
    await configure(early)
    try:
        await early.execute("BEGIN")
        drawn = await append_on(early, [StreamAppend("order-1", Expect.ANY, [ev(who="early")])])
        later = await store.append([StreamAppend("order-2", Expect.ANY, [ev(who="later")])])
        assert drawn.global_positions[0] < later.global_positions[0]

        assert await store.sequence() == 0, "the later event must wait behind the open one"
        status = await store.feed_status()
        assert status.pending == 1
        assert [b.application_name for b in status.blockers] == ["slow-writer"]
        assert status.blockers[0].pid == early.info.backend_pid

        await early.execute("COMMIT")
    finally:
        await early.close()
    assert await store.sequence() == 2
    assert [e.data["who"] for e in await store.read_feed()] == ["early", "later"]
    status = await store.feed_status()
    assert (status.head, status.pending, list(status.blockers)) == (2, 0, [])


async def test_concurrent_writers_with_rollbacks_leave_exactly_the_committed_events_in_the_feed(
    store: EventStore, database_url: str
) -> None:
    rng = random.Random(11)
    committed: list[str] = []

    async def writer(w: int) -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await configure(conn)
            for i in range(25):
                tag = f"{w}.{i}"
                roll_back = rng.random() < 0.3
                events = [ev(tag=f"{tag}.{k}") for k in range(rng.randint(1, 3))]
                stream = f"order-{rng.randint(1, 5)}"
                async with conn.transaction(force_rollback=roll_back):
                    await append_on(conn, [StreamAppend(stream, Expect.ANY, events)])
                    await asyncio.sleep(rng.random() * 0.01)
                if not roll_back:
                    committed.extend(str(e.data["tag"]) for e in events)

    async def sequencer(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await store.sequence(batch=7)
            await asyncio.sleep(0.002)

    stop = asyncio.Event()
    running = asyncio.create_task(sequencer(stop))
    await asyncio.gather(*(writer(w) for w in range(12)))
    stop.set()
    await running
    await store.sequence()

    feed = await store.read_feed(limit=100_000)
    assert [e.feed_position for e in feed] == list(range(1, len(feed) + 1))
    assert sorted(str(e.data["tag"]) for e in feed) == sorted(committed)
    assert len({e.event_id for e in feed}) == len(feed)
    assert (await store.verify()).ok


async def test_only_one_sequencer_runs_at_a_time(store: EventStore) -> None:
    for i in range(300):
        await store.append([StreamAppend(f"order-{i}", Expect.NO_STREAM, [ev(i=i)])])
    counts = await asyncio.gather(*(store.sequence(batch=10) for _ in range(4)))
    assert sum(counts) == 300
    feed = await store.read_feed(limit=1000)
    assert [e.feed_position for e in feed] == list(range(1, 301))
    assert (await store.verify()).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events CASCADE",
        "UPDATE feed SET hash = hash",
        "DELETE FROM feed",
        "TRUNCATE feed",
    ],
)
async def test_history_cannot_be_changed_or_removed(store: EventStore, statement: str) -> None:
    await store.append([StreamAppend("order-1", Expect.NO_STREAM, [ev()])])
    await store.sequence()
    async with store.pool.connection() as conn:
        with pytest.raises(psycopg.Error) as caught:
            await conn.execute(statement)
    assert caught.value.sqlstate == "ES003"
    assert "append-only" in str(caught.value)

    assert isinstance(_translate(caught.value), AppendOnlyViolationError)
    assert len(await store.read_stream("order-1")) == 1


async def _tamper(database_url: str, sql: str) -> None:
    """What a superuser could do behind the store's back: triggers off, then change history."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(sql)


async def _sequenced(store: EventStore, n: int) -> None:
    for i in range(n):
        await store.append([StreamAppend(f"order-{i % 3}", Expect.ANY, [ev(i=i)])])
    await store.sequence()


async def test_verify_reports_a_changed_payload_at_its_exact_position(
    store: EventStore, database_url: str
) -> None:
    await _sequenced(store, 10)
    victim = (await store.read_feed(after=6, limit=1))[0]
    await _tamper(
        database_url,
        "UPDATE events SET data = '{\"i\": 999}'"
        f" WHERE global_position = {victim.global_position}",
    )
    report = await store.verify()
    assert (report.ok, report.first_bad_position, report.checked) == (False, 7, 6)
    assert "hash mismatch" in (report.problem or "")
    assert (await store.verify(1, 6)).ok
    assert (await store.verify(8, 10)).ok, "links after the change still chain to each other"


async def test_verify_reports_a_gap_and_a_missing_event(
    store: EventStore, database_url: str
) -> None:
    await _sequenced(store, 10)
    await _tamper(database_url, "DELETE FROM feed WHERE feed_position = 4")
    report = await store.verify()
    assert (report.first_bad_position, report.problem) == (
        4,
        "gap: position 4 is missing (next is 5)",
    )


async def test_verify_reports_a_deleted_event(store: EventStore, database_url: str) -> None:
    await _sequenced(store, 5)
    victim = (await store.read_feed(after=1, limit=1))[0]
    await _tamper(
        database_url, f"DELETE FROM events WHERE global_position = {victim.global_position}"
    )
    report = await store.verify()
    assert report.first_bad_position == 2
    assert "missing" in (report.problem or "")


async def test_a_lost_feed_tail_is_sequenced_again_to_the_same_chain(
    store: EventStore, database_url: str
) -> None:
    await _sequenced(store, 5)
    before = await store.read_feed()
    await _tamper(database_url, "DELETE FROM feed WHERE feed_position = 5")
    assert (await store.verify(1, 5)).ok, "a range past the head ends at the head"
    assert await store.sequence() == 1
    after = await store.read_feed()
    assert [(e.feed_position, e.event_id) for e in after] == [
        (e.feed_position, e.event_id) for e in before
    ]
    assert (await store.verify()).ok


async def test_a_stream_type_cut_into_runs_is_read_whole_once_part_by_part(
    store: EventStore,
) -> None:
    # streams of uneven length, ids whose text order is not their number's, another type beside
    sizes = {f"order-{n}": 1 + n % 7 for n in range(1, 60)}
    await store.append([
        StreamAppend(stream, Expect.ANY, [ev(i=i) for i in range(size)])
        for stream, size in sizes.items()
    ])  # fmt: skip
    await store.append([StreamAppend("product-1", Expect.ANY, [ev(i=0)])])
    await store.sequence()

    runs = await store.stream_ranges("order", 4)
    # a stream made after the cut, sorting between two runs, is read all the same
    await store.append([StreamAppend("order-10a", Expect.ANY, [ev(i=0)])])
    starts = [None, *(r.first for r in runs[1:])]
    read: list[tuple[str, int]] = []
    for start, stop in zip(starts, [*starts[1:], None], strict=True):
        async for chunk in store.read_by_stream("order", 5, start=start, stop=stop):
            read += [(stream, entry.version) for stream, entry in chunk]

    assert len(runs) == 4
    total = sum(sizes.values())
    assert sum(r.events for r in runs) == total
    assert all(r.events <= total / 4 + max(sizes.values()) for r in runs)  # about even
    expected = [(s, v) for s, size in sizes.items() for v in range(1, size + 1)]
    assert sorted(read) == sorted([*expected, ("order-10a", 1)])  # every event, once
    # each stream whole and in version order (streams in the database's order of their ids)
    streams = [stream for stream, version in read if version == 1]
    assert read == [(s, v) for s in streams for v in range(1, sizes.get(s, 1) + 1)]
    assert await store.stream_ranges("nothing", 4) == []


async def test_runs_read_through_the_last_one_hold_every_stream_of_the_cut_and_no_other_type(
    store: EventStore,
) -> None:
    """What a rebuild's parts read: from the first run's first id, each up to the next run's,
    the last through its own last id. Streams made after the cut are read when they sort
    between runs and left out past the ends; the other types' never are."""
    sizes = {f"order-{n}": 1 + n % 5 for n in range(1, 40)}
    await store.append([
        StreamAppend(stream, Expect.ANY, [ev(i=i) for i in range(size)])
        for stream, size in sizes.items()
    ])  # fmt: skip
    others = ["client-1", "order_line-1", "product-1"]  # sorting before the orders, and after
    await store.append([StreamAppend(s, Expect.ANY, [ev(i=0)]) for s in others])
    runs = await store.stream_ranges("order", 3)
    assert (runs[0].first, runs[-1].last) == (min(sizes), max(sizes))
    # after the cut: one between two runs, one before the first and one past the last
    later = ["order-10a", "order-0", "order-99"]
    await store.append([StreamAppend(s, Expect.ANY, [ev(i=0)]) for s in later])

    read: list[tuple[str, int]] = []
    stops = [*(r.first for r in runs[1:]), None]
    for run, stop in zip(runs, stops, strict=True):
        through = runs[-1].last if stop is None else None
        async for chunk in store.read_by_stream("order", 4, start=run.first, stop=stop,
                                                through=through):  # fmt: skip
            read += [(stream, entry.version) for stream, entry in chunk]

    expected = [(s, v) for s, size in sizes.items() for v in range(1, size + 1)]
    assert sorted(read) == sorted([*expected, ("order-10a", 1)])
