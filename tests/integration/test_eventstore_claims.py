from __future__ import annotations

import asyncio

import orjson
import pytest

from eventstore import (
    AppendResult,
    Claim,
    EventStore,
    Expect,
    Idempotency,
    IdempotencyKeyReusedError,
    NewEvent,
    StreamAppend,
    UniqueClaimTakenError,
    WrongExpectedVersionError,
)

pytestmark = pytest.mark.integration


def ev(**data: object) -> NewEvent:
    return NewEvent(type="Happened", data=data)


def respond(result: AppendResult) -> bytes:
    return orjson.dumps({"versions": result.versions, "positions": list(result.global_positions)})


def key(name: str, body: bytes = b"{}") -> Idempotency:
    return Idempotency(key=name, fingerprint=body, respond=respond)


async def total_events(store: EventStore) -> int:
    async with store.pool.connection() as conn:
        row = await (await conn.execute("SELECT count(*) FROM events")).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_retried_key_returns_the_first_response_and_appends_nothing(
    store: EventStore,
) -> None:
    first = await store.append_idempotent(key("k1"), [StreamAppend("order-1", Expect.ANY, [ev()])])
    again = await store.append_idempotent(key("k1"), [StreamAppend("order-1", Expect.ANY, [ev()])])
    assert (first.replayed, again.replayed) == (False, True)
    assert again.response == first.response
    assert orjson.loads(first.response)["versions"] == {"order-1": 1}
    assert await total_events(store) == 1


async def test_a_key_reused_with_another_request_is_refused(store: EventStore) -> None:
    await store.append_idempotent(key("k1", b"a"), [StreamAppend("order-1", Expect.ANY, [ev()])])
    with pytest.raises(IdempotencyKeyReusedError):
        await store.append_idempotent(
            key("k1", b"b"), [StreamAppend("order-1", Expect.ANY, [ev()])]
        )
    assert await total_events(store) == 1


async def test_concurrent_retries_of_one_key_append_once(store: EventStore) -> None:
    outcomes = await asyncio.gather(
        *(
            store.append_idempotent(key("k1"), [StreamAppend("order-1", Expect.ANY, [ev()])])
            for _ in range(20)
        )
    )
    assert sum(not o.replayed for o in outcomes) == 1
    assert len({o.response for o in outcomes}) == 1
    assert await total_events(store) == 1


async def test_a_failed_append_does_not_burn_its_key(store: EventStore) -> None:
    await store.append([StreamAppend("order-1", Expect.NO_STREAM, [ev()])])
    with pytest.raises(WrongExpectedVersionError):
        await store.append_idempotent(
            key("k1"), [StreamAppend("order-1", Expect.NO_STREAM, [ev()])]
        )
    done = await store.append_idempotent(key("k1"), [StreamAppend("order-1", 1, [ev()])])
    assert not done.replayed


async def test_a_taken_unique_value_fails_the_whole_append(store: EventStore) -> None:
    email = Claim("client_email", "ada@example.com", "client-1")
    await store.append([StreamAppend("client-1", Expect.NO_STREAM, [ev()])], claims=[email])
    with pytest.raises(UniqueClaimTakenError) as caught:
        await store.append(
            [StreamAppend("client-2", Expect.NO_STREAM, [ev()])],
            claims=[Claim("client_email", "ada@example.com", "client-2")],
        )
    assert (caught.value.scope, caught.value.value, caught.value.owner) == (
        "client_email",
        "ada@example.com",
        "client-1",
    )
    assert await store.read_stream("client-2") == []
    assert await store.claim_owner("client_email", "ada@example.com") == "client-1"


async def test_the_owner_may_claim_its_own_value_again(store: EventStore) -> None:
    email = Claim("client_email", "ada@example.com", "client-1")
    await store.append([StreamAppend("client-1", Expect.NO_STREAM, [ev()])], claims=[email])
    await store.append([StreamAppend("client-1", 1, [ev()])], claims=[email])
    assert await store.claim_owner("client_email", "ada@example.com") == "client-1"


async def test_a_released_value_can_be_claimed_by_another_stream(store: EventStore) -> None:
    old = Claim("client_email", "ada@example.com", "client-1")
    new = Claim("client_email", "ada@lovelace.org", "client-1")
    await store.append([StreamAppend("client-1", Expect.NO_STREAM, [ev()])], claims=[old])
    await store.append([StreamAppend("client-1", 1, [ev()])], claims=[new], releases=[old])
    await store.append(
        [StreamAppend("client-2", Expect.NO_STREAM, [ev()])],
        claims=[Claim("client_email", "ada@example.com", "client-2")],
    )
    assert await store.claim_owner("client_email", "ada@example.com") == "client-2"
    assert await store.claim_owner("client_email", "ada@lovelace.org") == "client-1"


async def test_a_stream_cannot_release_a_value_it_does_not_own(store: EventStore) -> None:
    held = Claim("category_name", "books", "category-1")
    await store.append([StreamAppend("category-1", Expect.NO_STREAM, [ev()])], claims=[held])
    await store.append(
        [StreamAppend("category-2", Expect.NO_STREAM, [ev()])],
        releases=[Claim("category_name", "books", "category-2")],
    )
    assert await store.claim_owner("category_name", "books") == "category-1"


async def test_two_concurrent_claims_of_one_value_exactly_one_wins(store: EventStore) -> None:
    for round_ in range(30):
        value = f"bill-{round_}"
        outcomes = await asyncio.gather(
            *(
                store.append(
                    [StreamAppend(f"bill-{round_}x{i}", Expect.NO_STREAM, [ev()])],
                    claims=[Claim("bill_number", value, f"bill-{round_}x{i}")],
                )
                for i in range(2)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(o, AppendResult) for o in outcomes) == 1, outcomes
        assert sum(isinstance(o, UniqueClaimTakenError) for o in outcomes) == 1
    assert await total_events(store) == 30
