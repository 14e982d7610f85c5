"""The one-off that takes plain personal values written before sealing out of the log:
`orders store copy --to DATABASE_URL`.

The `events` table is never rewritten; instead a new event store (migrated beforehand) receives
every event of the old one in feed order, with each personal value sealed under its subject's
data key (made when the subject has none) and an erased subject's values dropped as null. Each
copy carries `copied_from` {database, feed_position, hash} in its metadata, so that an auditor
can match it with the old chain, and the new store's sequencer chains the copies anew (`orders
audit verify` on the new store). Data keys (destroyed ones too), unique claims (a personal one
taken plain is hashed as it is now) and the id sequences come along. Snapshots, stored
idempotent responses and read models do not: they are derived, and rebuilt in the new store.

Resumable: each page is one transaction, and a second run starts after the newest event the new
store holds. Memory is one page, whatever the size of the log; time is linear in the events (one
read, one hash read and one insert per page, and a key read per page for its uncached subjects).
Run it with the writers stopped (the command API, the projector); then point the services at
the new database, and retire the old one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from eventstore import EventStore, EventStoreError, RecordedEvent
from orders.vault import PERSONAL_CLAIMS, MasterKey, Vault

PAGE = 500
_KEYED_HASH = re.compile(r"[0-9a-f]{64}")  # what `Vault.claim_value` stores of a personal value


@dataclass(frozen=True, slots=True)
class Copied:
    events: int  # copied by this run
    feed_position: int  # of the old store, the last one the new store holds
    keys: int
    claims: int


def database_name(url: str) -> str:
    """The database a URL names, without host or credentials (what `copied_from` records)."""
    return urlsplit(url).path.lstrip("/")


async def copy_store(
    source: EventStore,
    target: EventStore,
    master: MasterKey,
    *,
    source_name: str,
    page: int = PAGE,
    progress: Callable[[int], None] = lambda _: None,
) -> Copied:
    """Copy `source` into the empty (or partly copied) `target`; both opened raw (no upcaster,
    no unseal): events are copied as stored, schema versions included."""
    resumed = await target.last_copied()
    if resumed is not None and resumed[0] != source_name:
        raise EventStoreError(f"the new store holds a copy of {resumed[0]}, not of {source_name}")
    await source.sequence()  # every event written is in the feed, so in the copy
    keys = await _copy_keys(source, target, page)
    vault = Vault(target, master)
    after = 0 if resumed is None else resumed[1]
    copied = 0
    while events := await source.read_feed(after, page):
        await target.insert_copies(await _copies(source, vault, source_name, events))
        copied += len(events)
        after = events[-1].feed_position or after
        progress(after)
    await target.sequence()
    claims = await _copy_claims(source, target, vault, page)
    await target.advance_id_sequences(await source.id_sequences())
    return Copied(copied, after, keys, claims)


async def _copies(
    source: EventStore, vault: Vault, source_name: str, events: list[RecordedEvent]
) -> list[RecordedEvent]:
    positions = [e.feed_position for e in events if e.feed_position is not None]
    hashes = await source.feed_hashes(positions)
    datas = await vault.resealed([(e.stream_id, e.data) for e in events])
    return [
        dataclasses.replace(
            e,
            data=data,
            metadata={
                **e.metadata,
                "copied_from": {
                    "database": source_name,
                    "feed_position": e.feed_position,
                    "hash": hashes[e.feed_position].hex() if e.feed_position else None,
                },
            },
        )
        for e, data in zip(events, datas, strict=True)
    ]


async def _copy_keys(source: EventStore, target: EventStore, page: int) -> int:
    """Every data key, wrapped as it is (the master key stays the same), destroyed ones too:
    they are what tells the copy, and every later reader, who was erased."""
    after, count = ("", 0), 0
    while keys := await source.read_keys_page(after, page):
        await target.insert_keys(keys)
        after, count = (keys[-1].subject, keys[-1].generation), count + len(keys)
    return count


async def _copy_claims(source: EventStore, target: EventStore, vault: Vault, page: int) -> int:
    after, count = ("", ""), 0
    while claims := await source.read_claims_page(after, page):
        await target.insert_claims([
            dataclasses.replace(c, value=await vault.claim_value(c.scope, c.value))
            if c.scope in PERSONAL_CLAIMS and not _KEYED_HASH.fullmatch(c.value)
            else c
            for c in claims
        ])  # fmt: skip
        after, count = (claims[-1].scope, claims[-1].value), count + len(claims)
    return count
