from __future__ import annotations

import asyncio
import random

import psycopg
import pytest

import migrations
from eventstore import (
    EventStore,
    EventStoreError,
    Expect,
    InvalidAppendError,
    NewEvent,
    PayloadTooLargeError,
    StoreUnavailableError,
    StreamAppend,
    WrongExpectedVersionError,
)

pytestmark = pytest.mark.integration


def ev(kind: str = "Happened", **data: object) -> NewEvent:
    return NewEvent(type=kind, data=data)


async def count_events(store: EventStore) -> int:
    async with store.pool.connection() as conn:
        row = await (await conn.execute("SELECT count(*) FROM events")).fetchone()
    assert row is not None
    return int(row[0])


async def test_an_append_to_a_new_stream_starts_at_version_one(store: EventStore) -> None:
    result = await store.append([StreamAppend("order-1", Expect.NO_STREAM, [ev(n=1), ev(n=2)])])
    assert result.versions == {"order-1": 2}
    events = await store.read_stream("order-1")
    assert [(e.version, e.data["n"], e.stream_type) for e in events] == [
        (1, 1, "order"),
        (2, 2, "order"),
    ]


async def test_a_stale_expected_version_is_refused_and_writes_nothing(store: EventStore) -> None:
    await store.append([StreamAppend("order-1", Expect.NO_STREAM, [ev()])])
    with pytest.raises(WrongExpectedVersionError) as caught:
        await store.append([StreamAppend("order-1", Expect.NO_STREAM, [ev()])])
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
        "order-1",
        "no_stream",
        1,
    )
    with pytest.raises(WrongExpectedVersionError):
        await store.append([StreamAppend("order-1", 2, [ev()])])
    assert await count_events(store) == 1


async def test_expect_any_appends_after_whatever_is_there(store: EventStore) -> None:
    await store.append([StreamAppend("order-1", Expect.ANY, [ev()])])
    result = await store.append([StreamAppend("order-1", Expect.ANY, [ev()])])
    assert result.versions == {"order-1": 2}


async def test_two_appenders_racing_on_one_version_exactly_one_wins(store: EventStore) -> None:
    for round_ in range(100):
        stream = f"product-{round_}"
        await store.append([StreamAppend(stream, Expect.NO_STREAM, [ev()])])
        outcomes = await asyncio.gather(
            store.append([StreamAppend(stream, 1, [ev(who="a")])]),
            store.append([StreamAppend(stream, 1, [ev(who="b")])]),
            return_exceptions=True,
        )
        wins = [o for o in outcomes if not isinstance(o, BaseException)]
        losses = [o for o in outcomes if isinstance(o, WrongExpectedVersionError)]
        assert (len(wins), len(losses)) == (1, 1), outcomes
        assert len(await store.read_stream(stream)) == 2


async def test_a_multi_stream_append_is_all_or_nothing(store: EventStore) -> None:
    await store.append([StreamAppend("product-1", Expect.NO_STREAM, [ev()])])
    with pytest.raises(WrongExpectedVersionError):
        await store.append(
            [
                StreamAppend("order-1", Expect.NO_STREAM, [ev()]),
                StreamAppend("product-1", 5, [ev()]),
            ]
        )
    assert await store.read_stream("order-1") == []
    assert len(await store.read_stream("product-1")) == 1
    result = await store.append(
        [StreamAppend("order-1", Expect.NO_STREAM, [ev()]), StreamAppend("product-1", 1, [ev()])]
    )
    assert result.versions == {"order-1": 1, "product-1": 2}


async def test_concurrent_writers_on_overlapping_streams_never_deadlock(store: EventStore) -> None:
    rng = random.Random(7)
    streams = [f"product-{i}" for i in range(6)]

    async def writer() -> int:
        for _ in range(15):
            chosen = rng.sample(streams, rng.randint(1, 4))
            rng.shuffle(chosen)  # callers give streams in any order; the store sorts them
            await store.append([StreamAppend(s, Expect.ANY, [ev()]) for s in chosen])
        return 15

    done = await asyncio.gather(*(writer() for _ in range(32)))
    assert sum(done) == 32 * 15
    by_stream = await store.read_streams(streams)
    assert sum(len(events) for events in by_stream.values()) == await count_events(store)
    for events in by_stream.values():
        assert [e.version for e in events] == list(range(1, len(events) + 1))


@pytest.mark.parametrize(
    ("appends", "error"),
    [
        ([StreamAppend("", Expect.ANY, [ev()])], InvalidAppendError),
        ([StreamAppend("no dash", Expect.ANY, [ev()])], InvalidAppendError),
        ([StreamAppend("order-1\n", Expect.ANY, [ev()])], InvalidAppendError),
        ([StreamAppend("order-1", "latest", [ev()])], InvalidAppendError),  # type: ignore[arg-type]
        ([StreamAppend("order-1", 0, [ev()])], InvalidAppendError),
        ([StreamAppend("order-1", True, [ev()])], InvalidAppendError),
        ([StreamAppend("order-1", Expect.ANY, [])], InvalidAppendError),
        ([], InvalidAppendError),
        ([StreamAppend("order-1", Expect.ANY, [ev()])] * 2, InvalidAppendError),
        (
            [StreamAppend("order-1", Expect.ANY, [ev(blob="x" * (1024 * 1024))])],
            PayloadTooLargeError,
        ),
        ([StreamAppend("order-1", Expect.ANY, [ev(bad={1, 2})])], InvalidAppendError),
        ([StreamAppend("order-1", Expect.ANY, [ev(nul="a\x00b")])], InvalidAppendError),
    ],
)
async def test_bad_input_gets_a_typed_error_and_writes_nothing(
    store: EventStore, appends: list[StreamAppend], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await store.append(appends)
    assert await count_events(store) == 0


async def test_control_characters_and_sql_are_stored_verbatim(store: EventStore) -> None:
    text = "Robert'); DROP TABLE events;--\t\r\n\x1b[31m\u202e"
    await store.append([StreamAppend("client-1", Expect.NO_STREAM, [ev(name=text)])])
    (event,) = await store.read_stream("client-1")
    assert event.data["name"] == text


async def test_a_stream_is_read_up_to_a_version_or_a_point_in_time(store: EventStore) -> None:
    for n in range(1, 4):
        await store.append([StreamAppend("order-1", Expect.ANY, [ev(n=n)])])
    events = await store.read_stream("order-1")
    assert [e.data["n"] for e in await store.read_stream("order-1", to_version=2)] == [1, 2]
    as_of = events[1].recorded_at
    assert [e.version for e in await store.read_stream("order-1", as_of=as_of)] == [1, 2]


async def test_the_upcaster_is_applied_on_every_read(database_url: str) -> None:
    def upcast(kind: str, version: int, data: dict[str, object]) -> tuple[int, dict[str, object]]:
        if kind == "Renamed" and version == 1:
            return 2, {"full_name": data["name"]}
        return version, data

    async with await EventStore.open(database_url, upcast=upcast) as store:
        await store.append([StreamAppend("client-1", Expect.NO_STREAM, [ev("Renamed", name="A")])])
        await store.sequence()
        (from_stream,) = await store.read_stream("client-1")
        (from_feed,) = await store.read_feed()
        many = await store.read_streams(["client-1"])
    for event in (from_stream, from_feed, many["client-1"][0]):
        assert (event.schema_version, event.data) == (2, {"full_name": "A"})


async def test_ids_come_from_a_sequence_per_entity_type(store: EventStore) -> None:
    assert [await store.next_id("product") for _ in range(3)] == [1, 2, 3]
    assert await store.next_id("client") == 1
    with pytest.raises(EventStoreError):
        await store.next_id("no_such_kind")
    with pytest.raises(EventStoreError):
        await store.next_id("product; DROP TABLE events")


async def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    store = await EventStore.open("postgresql://nobody@127.0.0.1:1/none", min_size=0)
    store.pool.timeout = 1.0
    try:
        with pytest.raises(StoreUnavailableError):
            await store.append([StreamAppend("order-1", Expect.ANY, [ev()])])
    finally:
        await store.close()


def test_the_schema_migrates_down_and_up_again(database_url: str) -> None:
    migrations.downgrade(database_url, "base")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT to_regclass('events')").fetchone()
    assert row == (None,)
    migrations.upgrade(database_url)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('events')::text").fetchone() == ("events",)
