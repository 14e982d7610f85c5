"""Signed checkpoints against a real event store: the signer's cadence, and a superuser who
changes an event and recomputes every hash after it, which the chain check alone cannot see and
the checkpoints can; a sink whose lines were removed, cut or re-signed; the CLI."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import orjson
import psycopg
import pytest

from eventstore import EventStore, Expect, NewEvent, StreamAppend
from eventstore._chain import CANONICAL_COLUMNS, GENESIS, canonical, link
from orders.signed_checkpoints.audit import render, verify_against
from orders.signed_checkpoints.signer import Cadence, Signer
from orders.signed_checkpoints.signing import SigningKey, new_signing_key
from orders.signed_checkpoints.sink import DirectorySink
from tests.query import DEAD_REDIS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EVERY_EVENT = Cadence(seconds=3600, events=1)


class Clock:
    """The signer's clock, moved by the test: the cadence in seconds without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_hex(new_signing_key())


@pytest.fixture
def sink(tmp_path: Path) -> DirectorySink:
    return DirectorySink(tmp_path / "checkpoints")


async def _append(store: EventStore, *values: int) -> None:
    for i in values:
        event = NewEvent("Happened", {"i": i})
        await store.append([StreamAppend(f"order-{i % 3}", Expect.ANY, [event])])
    await store.sequence()


async def _signed_every(store: EventStore, signer: Signer, count: int, every: int) -> None:
    """`count` events, sequenced and offered to the signer `every` events."""
    for start in range(1, count + 1, every):
        await _append(store, *range(start, min(start + every, count + 1)))
        await signer.step()


async def _rewrite(database_url: str, position: int) -> None:
    """The superuser: triggers off, one event's data changed, and the chain recomputed from it
    exactly as the sequencer computes it, so that every link holds again."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE events SET data = '{\"i\": 999}' WHERE global_position ="
            " (SELECT global_position FROM feed WHERE feed_position = %s)", (position,),
        )  # fmt: skip
        cur = await conn.execute("SELECT hash FROM feed WHERE feed_position = %s", (position - 1,))
        row = await cur.fetchone()
        previous = bytes(row[0]) if row else GENESIS
        cur = await conn.execute(
            f"SELECT f.feed_position, {CANONICAL_COLUMNS} FROM feed f"
            " JOIN events e USING (global_position) WHERE f.feed_position >= %s"
            " ORDER BY f.feed_position", (position,),
        )  # fmt: skip
        for feed_position, *event in await cur.fetchall():
            previous = link(previous, canonical(feed_position, event))
            await conn.execute(
                "UPDATE feed SET hash = %s WHERE feed_position = %s", (previous, feed_position)
            )


async def test_the_signer_signs_the_head_after_m_events_or_n_seconds_numbered_without_gaps(
    store: EventStore, sink: DirectorySink, key: SigningKey
) -> None:
    clock = Clock()
    signer = Signer(store, sink, key, Cadence(seconds=60, events=5), clock)
    assert await signer.step() is None, "an empty feed: nothing to sign"
    await _append(store, 1, 2, 3)
    first = await signer.step()
    assert first is not None
    assert (first.sequence, first.feed_position) == (1, 3), "the first head at once"
    await _append(store, 4, 5)
    assert await signer.step() is None, "2 events and no time: not yet"
    await _append(store, 6, 7, 8)
    by_events = await signer.step()
    assert by_events is not None
    assert (by_events.sequence, by_events.feed_position) == (2, 8)
    await _append(store, 9)
    clock.now = 59
    assert await signer.step() is None
    clock.now = 60
    by_time = await signer.step()
    assert by_time is not None
    assert (by_time.sequence, by_time.feed_position) == (3, 9)
    clock.now = 600
    assert await signer.step() is None, "the head did not move"

    assert [line.checkpoint for line in sink.read_lines()] == [first, by_events, by_time]
    for checkpoint in (first, by_events, by_time):
        assert key.public.verifies(checkpoint)
        assert await store.feed_hash(checkpoint.feed_position) == bytes.fromhex(checkpoint.hash)
    again = Signer(store, sink, key, Cadence(seconds=60, events=5), clock)
    await _append(store, 10)
    resumed = await again.step()
    assert resumed is not None
    assert resumed.sequence == 4, "a restarted signer numbers on from the sink"


async def test_a_rewritten_chain_passes_the_chain_check_but_not_the_checkpoints(
    store: EventStore, database_url: str, sink: DirectorySink, key: SigningKey,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    signer = Signer(store, sink, key, EVERY_EVENT)
    await _signed_every(store, signer, count=10, every=1)
    report = await verify_against(store, [sink], [key.public])
    assert report.ok
    assert render(report)[-1].startswith("ok: 10 feed positions verified; 10 signed checkpoints")

    await _rewrite(database_url, position=7)
    assert [e.data for e in await store.read_feed(after=6, limit=1)] == [{"i": 999}]
    plain = await store.verify()
    assert (plain.ok, plain.checked) == (True, 10), "the limit: a recomputed chain is consistent"

    report = await verify_against(store, [sink], [key.public])
    assert not report.ok
    assert report.disagreement is not None
    seventh = report.disagreement.checkpoint
    assert (seventh.feed_position, seventh.sequence) == (7, 7)
    assert report.disagreement.agreeing is not None
    assert report.disagreement.agreeing.feed_position == 6
    assert report.problems == []
    assert render(report) == [
        (
            f"BROKEN at feed position 7: its hash differs from checkpoint 7, signed at"
            f" {seventh.signed_at} by key {key.public.key_id}; the chain was rewritten at this very"
            " position (position 6 agrees: checkpoint 6) (6 signed checkpoints agree before it)"
        )
    ]

    with caplog.at_level(logging.ERROR, logger="orders.checkpoints"):
        await _append(store, 11)
        assert await signer.step() is not None
    assert "feed position 10, signed in checkpoint 10" in caplog.text
    assert "has another hash (the chain was rewritten)" in caplog.text


async def test_with_checkpoints_every_few_events_the_change_lies_between_two_of_them(
    store: EventStore, database_url: str, sink: DirectorySink, key: SigningKey
) -> None:
    signer = Signer(store, sink, key, EVERY_EVENT)
    await _signed_every(store, signer, count=12, every=4)  # checkpoints at 4, 8, 12
    await _rewrite(database_url, position=6)
    report = await verify_against(store, [sink], [key.public])
    assert report.disagreement is not None
    assert report.disagreement.checkpoint.feed_position == 8
    assert render(report)[-1].startswith("BROKEN at feed position 8: its hash differs")
    assert (
        "rewritten at a position from 5 to 8 (position 4 agrees: checkpoint 1)"
        in (render(report)[-1])
    )
    partial = await verify_against(store, [sink], [key.public], first=1, last=7)
    assert partial.ok, "a range before the next checkpoint cannot show the change"


async def test_a_plain_change_is_still_the_chain_checks_and_a_lost_tail_the_checkpoints(
    store: EventStore, database_url: str, sink: DirectorySink, key: SigningKey
) -> None:
    signer = Signer(store, sink, key, EVERY_EVENT)
    await _signed_every(store, signer, count=6, every=2)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE events SET data = '{}' WHERE global_position = ("
                           "SELECT global_position FROM feed WHERE feed_position = 5)")  # fmt: skip
    report = await verify_against(store, [sink], [key.public])
    assert (report.disagreement, report.chain.first_bad_position) == (None, 5)
    assert render(report) == [
        (
            "BROKEN at feed position 5: hash mismatch: the event or an earlier link was changed"
            " (4 positions verified before it; 2 signed checkpoints agree)"
        )
    ]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("DELETE FROM feed WHERE feed_position >= 5")  # a backup from before
        await conn.execute("DELETE FROM events WHERE global_position IN (SELECT global_position"
                           " FROM events ORDER BY global_position DESC LIMIT 2)")  # fmt: skip
    assert (await store.verify()).ok
    report = await verify_against(store, [sink], [key.public])
    assert report.disagreement is not None
    assert (report.disagreement.checkpoint.feed_position, report.disagreement.problem) == (
        6, "the feed does not reach it",
    )  # fmt: skip


async def test_removed_cut_and_resigned_lines_of_the_sink_are_reported(
    store: EventStore, database_url: str, sink: DirectorySink, key: SigningKey
) -> None:
    signer = Signer(store, sink, key, EVERY_EVENT)
    await _signed_every(store, signer, count=8, every=1)
    await _rewrite(database_url, position=5)
    intruder = SigningKey.from_hex(new_signing_key())
    path = sink.files()[0]
    lines = path.read_bytes().splitlines(keepends=True)
    resigned = []
    for raw in lines[4:7]:  # checkpoints 5, 6, 7 re-signed over the rewritten chain
        old = orjson.loads(raw)
        digest = await store.feed_hash(old["feed_position"])
        assert digest is not None
        at = datetime.fromisoformat(old["signed_at"])
        resigned.append(intruder.sign(old["sequence"], old["feed_position"], digest, at))
    forged = resigned[2].model_copy(update={"key_id": key.public.key_id})
    kept = [*lines[:3], *(r.model_dump_json().encode() + b"\n" for r in resigned[:2]),
            forged.model_dump_json().encode() + b"\n", lines[7][:30]]  # fmt: skip
    path.write_bytes(b"".join(kept))  # 4 removed, 5 to 7 re-signed or forged, 8 cut short

    report = await verify_against(store, [sink], [key.public])
    assert report.problems == [
        f"{path}:7: cut short (no end of line)",
        "checkpoint 4 is missing (3 is followed by 5)",
        (
            f"{path}:4: checkpoint 5 is signed by key {intruder.public.key_id}, which is not"
            " among the public keys given"
        ),
        (
            f"{path}:5: checkpoint 6 is signed by key {intruder.public.key_id}, which is not"
            " among the public keys given"
        ),
        (
            f"{path}:6: checkpoint 7 has a signature that key {key.public.key_id} did not make"
            " (forged or altered)"
        ),
    ]
    assert report.disagreement is None, "what is left of the genuine ones agrees"
    assert not report.ok
    assert render(report)[:-1] == [f"checkpoints: {p}" for p in report.problems]


def _orders(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args], capture_output=True, text=True, timeout=120,
        cwd=ROOT, check=False,
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", "REDIS_URL": DEAD_REDIS, **env},
    )  # fmt: skip


async def test_the_cli_signs_and_verifies_against_checkpoints_and_names_the_position(
    store: EventStore, database_url: str, tmp_path: Path, key: SigningKey
) -> None:
    env = {"DATABASE_URL": database_url, "ORDERS_CHECKPOINT_DIR": str(tmp_path / "sink"),
           "ORDERS_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    secret = new_signing_key()
    refused = _orders("checkpoints", "sign", "--once", **env)
    assert (refused.returncode, refused.stderr.strip().splitlines()) == (
        2, [("orders: ORDERS_CHECKPOINT_KEY is not set: make one with `orders checkpoints new-key`,"
            " keep it secret, and give its public key to the auditors")],
    )  # fmt: skip
    for i in range(1, 5):
        await _append(store, i)
        signed = _orders("checkpoints", "sign", "--once", ORDERS_CHECKPOINT_KEY=secret, **env)
        assert signed.returncode == 0, signed.stderr
        assert orjson.loads(signed.stdout)["feed_position"] == i
    public = SigningKey.from_hex(secret).public
    published = tmp_path / "sink" / "keys" / f"{public.key_id}.json"
    assert published.read_text().strip() == public.model_dump_json()
    key_file = tmp_path / "custodian.json"
    key_file.write_text(public.model_dump_json())

    verify = ["audit", "verify", "--checkpoints", str(tmp_path / "sink"), "--public-key"]
    clean = _orders(*verify, str(key_file), **env)
    assert (clean.returncode, clean.stdout.splitlines()[-1][:60]) == (
        0, "ok: 4 feed positions verified; 4 signed checkpoints agree (t",
    )  # fmt: skip
    await _rewrite(database_url, position=3)
    assert _orders("audit", "verify", **env).returncode == 0, "the chain check alone: clean"
    broken = _orders(*verify, str(key_file), **env)
    assert broken.returncode == 1
    assert broken.stdout.startswith("BROKEN at feed position 3: its hash differs from checkpoint 3")

    without_key = _orders("audit", "verify", "--checkpoints", str(tmp_path / "sink"), **env)
    assert without_key.returncode == 2
    assert without_key.stderr.startswith("orders: --checkpoints needs --public-key FILE")
    key_alone = _orders("audit", "verify", "--public-key", str(key_file), **env)
    assert (key_alone.returncode, key_alone.stderr) == (
        2, "orders: --public-key checks signed checkpoints: name them with --checkpoints DIR\n",
    )  # fmt: skip
    missing = _orders(*verify, str(tmp_path / "absent.json"), **env)
    assert (missing.returncode, len(missing.stderr.strip().splitlines())) == (2, 1)
    assert missing.stderr.startswith("orders: cannot read the public key")
