"""Signed checkpoints without a database: the signature covers every field, keys are named by
themselves, and a sink that reports every line it cannot read instead of skipping it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from orders.signed_checkpoints import PublicKeyError, SigningKeyError
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


def test_a_checkpoint_line_is_parsed_strictly() -> None:
    line = SigningKey.from_hex(new_signing_key()).sign(1, 1, DIGEST, AT).model_dump()
    for change in ({"hash": "AB" * 32}, {"signed_at": "2026-11-26T12:00:00"},
                   {"signature": "00"}, {"sequence": 0}, {"extra": 1}):  # fmt: skip
        with pytest.raises(ValueError, match="validation error"):
            Checkpoint.model_validate({**line, **change})
