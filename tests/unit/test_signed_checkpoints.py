"""Signed checkpoints without a database: the signature covers every field, keys are named by
themselves, the cadence of N seconds or M events, and a sink that reports every line it cannot
read instead of skipping it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from eventstore import FeedHead
from orders.signed_checkpoints import PublicKeyError, SigningKeyError
from orders.signed_checkpoints.audit import read_checkpoints
from orders.signed_checkpoints.signer import Cadence, due
from orders.signed_checkpoints.signing import (
    Checkpoint,
    PublicKey,
    SigningKey,
    new_signing_key,
    read_public_key,
)
from orders.signed_checkpoints.sink import DirectorySink

AT = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
DIGEST = hashlib.sha256(b"head").digest()


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_hex(new_signing_key())


def test_a_checkpoint_verifies_under_its_key_and_not_once_any_field_changed(
    key: SigningKey,
) -> None:
    checkpoint = key.sign(3, 120, DIGEST, AT)
    assert (checkpoint.sequence, checkpoint.feed_position, checkpoint.hash) == (
        3,
        120,
        DIGEST.hex(),
    )
    assert checkpoint.signed_at == "2026-11-26T12:00:00.123456+00:00"
    assert checkpoint.message() == (
        f"orders-checkpoint/1 3 120 {DIGEST.hex()} 2026-11-26T12:00:00.123456+00:00".encode()
    )
    assert key.public.verifies(checkpoint)
    changes = {"sequence": 4, "feed_position": 121, "hash": "00" * 32,
               "signed_at": "2026-11-26T12:00:01.123456+00:00"}  # fmt: skip
    for name, value in changes.items():
        assert not key.public.verifies(checkpoint.model_copy(update={name: value})), name


def test_a_key_id_is_derived_from_the_key_so_another_key_cannot_claim_it(key: SigningKey) -> None:
    other = SigningKey.from_hex(new_signing_key())
    assert (
        key.public.key_id == hashlib.sha256(bytes.fromhex(key.public.public_key)).hexdigest()[:16]
    )
    assert other.public.key_id != key.public.key_id
    resigned = other.sign(1, 5, DIGEST, AT)
    assert not key.public.verifies(resigned)
    forged = resigned.model_copy(update={"key_id": key.public.key_id})
    assert not key.public.verifies(forged)


def test_the_signing_key_setting_is_refused_when_missing_or_malformed_without_quoting_it() -> None:
    with pytest.raises(SigningKeyError, match="not set"):
        SigningKey.from_setting(None)
    for bad in ("change-me", "ab" * 31, "zz" * 32):
        with pytest.raises(SigningKeyError, match="64 hex digits") as caught:
            SigningKey.from_setting(SecretStr(bad))
        assert bad not in str(caught.value)
    good = new_signing_key()
    assert (
        SigningKey.from_setting(SecretStr(f" {good}\n")).public == SigningKey.from_hex(good).public
    )


def test_a_public_key_file_is_the_apis_json_or_a_pem_key(tmp_path: Path, key: SigningKey) -> None:
    document = tmp_path / "key.json"
    document.write_text(key.public.model_dump_json())
    assert read_public_key(document) == key.public

    private = Ed25519PrivateKey.generate()
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert read_public_key(pem) == PublicKey.of(private.public_key().public_bytes_raw())

    lying = tmp_path / "lying.json"
    lying.write_text(key.public.model_copy(update={"key_id": "0" * 16}).model_dump_json())
    with pytest.raises(PublicKeyError, match="is not the id of its key"):
        read_public_key(lying)
    garbage = tmp_path / "garbage"
    garbage.write_text("hello")
    with pytest.raises(PublicKeyError, match="neither a PEM public key nor"):
        read_public_key(garbage)
    with pytest.raises(PublicKeyError, match="cannot read"):
        read_public_key(tmp_path / "absent.json")


def test_the_head_is_signed_when_it_moved_m_events_or_n_seconds_after_the_last_checkpoint(
    key: SigningKey,
) -> None:
    cadence = Cadence(seconds=10, events=100)
    last = key.sign(1, 500, DIGEST, AT)
    assert not due(None, FeedHead(0, None), 1e9, cadence), "an empty feed has nothing to sign"
    assert due(None, FeedHead(1, DIGEST), 0, cadence), "the first checkpoint at once"
    assert not due(last, FeedHead(500, DIGEST), 1e9, cadence), "nothing new, nothing signed"
    assert not due(last, FeedHead(599, b"x" * 32), 9.9, cadence)
    assert due(last, FeedHead(600, b"x" * 32), 0, cadence), "M events"
    assert due(last, FeedHead(501, b"x" * 32), 10, cadence), "N seconds"
    assert due(last, FeedHead(500, b"x" * 32), 10, cadence), "same position, another hash"
    assert due(last, FeedHead(400, b"x" * 32), 10, cadence), "the head went back: signed, too"


def test_the_sink_appends_one_line_per_checkpoint_and_reads_the_newest(
    tmp_path: Path, key: SigningKey
) -> None:
    sink = DirectorySink(tmp_path / "sink")
    assert sink.latest() is None
    assert list(sink.read_lines()) == []
    first, second = key.sign(1, 5, DIGEST, AT), key.sign(2, 9, DIGEST, AT)
    sink.append(first)
    sink.append(second)
    [day] = sink.files()
    assert day.name == "checkpoints-2026-11-26.jsonl"
    assert day.read_text().splitlines() == [first.model_dump_json(), second.model_dump_json()]
    assert [line.checkpoint for line in sink.read_lines()] == [first, second]
    assert sink.latest() == second
    sink.publish_key(key.public)
    assert sink.read_key(key.public.key_id) == key.public
    assert sink.read_key("../../etc/passwd") is None


def test_a_line_cut_short_is_reported_and_the_next_checkpoint_starts_a_line_of_its_own(
    tmp_path: Path, key: SigningKey
) -> None:
    sink = DirectorySink(tmp_path)
    first, second = key.sign(1, 5, DIGEST, AT), key.sign(2, 9, DIGEST, AT)
    sink.append(first)
    path = sink.files()[0]
    path.write_bytes(path.read_bytes() + second.model_dump_json().encode()[:40])  # a crash
    assert sink.latest() == first
    [line] = [line for line in sink.read_lines() if line.checkpoint is None]
    assert (line.where, line.problem) == (f"{path.name}:2", "cut short (no end of line)")

    sink.append(second)
    lines = list(sink.read_lines())
    assert [line.checkpoint for line in lines] == [first, None, second]
    assert lines[1].problem is not None
    assert lines[1].problem.startswith("not a checkpoint")
    assert sink.latest() == second


def test_every_fault_of_the_checkpoints_is_reported_and_only_sound_ones_are_trusted(
    tmp_path: Path, key: SigningKey
) -> None:
    intruder = SigningKey.from_hex(new_signing_key())
    sink = DirectorySink(tmp_path / "sink")
    good = [key.sign(n, n * 10, DIGEST, AT) for n in (1, 2, 3, 6)]
    resigned = intruder.sign(7, 70, DIGEST, AT)
    forged = resigned.model_copy(update={"sequence": 8, "key_id": key.public.key_id})
    for checkpoint in [*good, resigned, forged]:
        sink.append(checkpoint)
    copy = DirectorySink(tmp_path / "custodian")  # a custodian's copy: one agrees, one does not
    copy.append(good[0])
    copy.append(good[1].model_copy(update={"feed_position": 21}))

    trusted, problems = read_checkpoints([sink, copy], [key.public])
    assert trusted == good
    sink_file, copy_file = sink.files()[0], copy.files()[0]
    assert problems == [
        f"{copy_file}:2: checkpoint 2 differs from the one in {sink_file}:2",
        "checkpoints 4 to 5 are missing (3 is followed by 6)",
        (
            f"{sink_file}:5: checkpoint 7 is signed by key {intruder.public.key_id}, which is not"
            " among the public keys given"
        ),
        (
            f"{sink_file}:6: checkpoint 8 has a signature that key {key.public.key_id} did not make"
            " (forged or altered)"
        ),
    ]
    trusted, problems = read_checkpoints([sink], [key.public, intruder.public])
    assert resigned in trusted, "rotated keys: each checkpoint is checked with the key it names"


def test_no_checkpoints_at_all_is_reported_not_taken_for_agreement(tmp_path: Path) -> None:
    trusted, problems = read_checkpoints([DirectorySink(tmp_path)], [])
    assert (trusted, problems) == ([], [f"no checkpoints in {tmp_path}"])


def test_a_checkpoint_line_is_parsed_strictly() -> None:
    line = SigningKey.from_hex(new_signing_key()).sign(1, 1, DIGEST, AT).model_dump()
    for change in ({"hash": "AB" * 32}, {"signed_at": "2026-11-26T12:00:00"},
                   {"signature": "00"}, {"sequence": 0}, {"extra": 1}):  # fmt: skip
        with pytest.raises(ValueError, match="validation error"):
            Checkpoint.model_validate({**line, **change})
