"""Appending: validation in Python, the atomic write in one call of the `es_append` function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import psycopg

from eventstore._errors import IdempotencyKeyReusedError, InvalidAppendError, PayloadTooLargeError
from eventstore._model import (
    Appended,
    AppendResult,
    Claim,
    Idempotency,
    NewEvent,
    StreamAppend,
    check_stream_id,
    expected_code,
)

MAX_PAYLOAD_BYTES = 1024 * 1024
_EVENT_TYPE_MAX = 200

_APPEND = "SELECT stream_id, version, global_position FROM es_append(%s::jsonb)"


def _document(
    appends: Sequence[StreamAppend], claims: Sequence[Claim], releases: Sequence[Claim]
) -> str:
    """The single JSON argument of `es_append`, validated on the way.

    Encoded in one `orjson.dumps` call: a document within the payload limit cannot hold a payload
    over it, so each payload is encoded on its own only when the whole is too big or refused,
    to name the culprit."""
    streams = [_stream(a) for a in appends]
    if not streams:
        raise InvalidAppendError("an append needs at least one stream")
    if len(streams) > 1 and len({s["id"] for s in streams}) != len(streams):
        raise InvalidAppendError("a stream may appear only once in an append")
    document: dict[str, object] = {"streams": streams}
    if claims or releases:  # absent, they read as empty in es_append
        document["claims"] = _claims(claims)
        document["releases"] = _claims(releases)
    try:
        encoded = orjson.dumps(document)
    except TypeError as e:
        _check_payloads(appends)
        raise InvalidAppendError(f"the append is not JSON-serialisable: {e}") from e
    if len(encoded) > MAX_PAYLOAD_BYTES:
        _check_payloads(appends)
    return encoded.decode()


def _stream(a: StreamAppend) -> dict[str, Any]:
    stream_id = check_stream_id(a.stream_id)
    if not a.events:
        raise InvalidAppendError("every stream in an append needs at least one event")
    return {
        "id": stream_id,
        "expected": expected_code(a.expected),
        "events": [_event(e) for e in a.events],
    }


def _event(e: NewEvent) -> dict[str, Any]:
    if not isinstance(e.type, str) or not e.type or len(e.type) > _EVENT_TYPE_MAX:
        raise InvalidAppendError(f"bad event type {e.type!r}")
    if (
        isinstance(e.schema_version, bool)
        or not isinstance(e.schema_version, int)
        or e.schema_version < 1
    ):
        raise InvalidAppendError(f"bad schema version {e.schema_version!r}")
    return {
        "id": e.event_id,
        "type": e.type,
        "sv": e.schema_version,
        "data": e.data,
        "meta": e.metadata,
    }


def _check_payloads(appends: Sequence[StreamAppend]) -> None:
    for e in (e for a in appends for e in a.events):
        _check_payload(e.data, f"data of {e.type}")
        _check_payload(e.metadata, f"metadata of {e.type}")


def _check_payload(value: object, what: str) -> None:
    try:
        encoded = orjson.dumps(value)
    except TypeError as e:
        raise InvalidAppendError(f"{what} is not JSON-serialisable: {e}") from e
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(f"{what} is {len(encoded)} bytes; the limit is 1 MiB")


def _claims(claims: Sequence[Claim]) -> list[dict[str, str]]:
    for c in claims:
        check_stream_id(c.owner)
        if not c.scope or not isinstance(c.value, str) or not isinstance(c.scope, str):
            raise InvalidAppendError(f"bad claim {c!r}")
    return [{"scope": c.scope, "value": c.value, "owner": c.owner} for c in claims]


def _result(rows: Sequence[tuple[str, int, int]]) -> AppendResult:
    versions: dict[str, int] = {}
    for stream_id, version, _ in rows:
        versions[stream_id] = max(version, versions.get(stream_id, 0))
    return AppendResult(versions=versions, global_positions=[p for _, _, p in rows])


async def append(
    conn: psycopg.AsyncConnection[Any],
    appends: Sequence[StreamAppend],
    claims: Sequence[Claim] = (),
    releases: Sequence[Claim] = (),
) -> AppendResult:
    params = (_document(appends, claims, releases),)
    cur = await conn.execute(_APPEND, params, prepare=True)
    return _result(await cur.fetchall())


async def append_idempotent(
    conn: psycopg.AsyncConnection[Any],
    idempotency: Idempotency,
    appends: Sequence[StreamAppend],
    claims: Sequence[Claim] = (),
    releases: Sequence[Claim] = (),
) -> Appended:
    """The key is inserted first: a concurrent retry blocks on it until this transaction ends,
    then finds the stored response (or, if this one rolled back, goes ahead itself)."""
    params = (_document(appends, claims, releases),)
    async with conn.transaction():
        cur = await conn.execute(
            "INSERT INTO idempotency_keys (key, fingerprint, response, streams)"
            " VALUES (%s, %s, '', %s) ON CONFLICT (key) DO NOTHING RETURNING 1",
            (idempotency.key, idempotency.fingerprint, [a.stream_id for a in appends]),
        )
        if await cur.fetchone() is None:
            return await _replay(conn, idempotency)
        cur = await conn.execute(_APPEND, params, prepare=True)
        result = _result(await cur.fetchall())
        response = idempotency.respond(result)
        await conn.execute(
            "UPDATE idempotency_keys SET response = %s WHERE key = %s", (response, idempotency.key)
        )
    return Appended(response=response, replayed=False, result=result)


async def _replay(conn: psycopg.AsyncConnection[Any], idempotency: Idempotency) -> Appended:
    response = await stored_response(conn, idempotency.key, idempotency.fingerprint)
    assert response is not None, "the conflicting key was committed, so it is visible now"
    return Appended(response=response, replayed=True, result=None)


async def stored_response(
    conn: psycopg.AsyncConnection[Any], key: str, fingerprint: bytes
) -> bytes | None:
    cur = await conn.execute(
        "SELECT fingerprint, response FROM idempotency_keys WHERE key = %s", (key,), prepare=True
    )
    row = await cur.fetchone()
    if row is None:
        return None
    if bytes(row[0]) != fingerprint:
        raise IdempotencyKeyReusedError(key)
    return bytes(row[1])


async def responses_of(conn: psycopg.AsyncConnection[Any], stream_id: str) -> dict[str, bytes]:
    cur = await conn.execute(
        "SELECT key, response FROM idempotency_keys WHERE streams @> ARRAY[%s]", (stream_id,)
    )
    return {key: bytes(response) for key, response in await cur.fetchall()}


async def replace_responses(
    conn: psycopg.AsyncConnection[Any], responses: Mapping[str, bytes]
) -> None:
    """Stored responses rewritten (an erasure's): a retry gets the new one back."""
    async with conn.transaction():
        for key, response in responses.items():
            await conn.execute(
                "UPDATE idempotency_keys SET response = %s WHERE key = %s", (response, key)
            )
