"""The auditors' signed checkpoints over HTTP: the newest one and the key to check it with, for a
custodian to collect; old keys stay available after a rotation; refusals in the error shape."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from eventstore import EventStore, Expect, NewEvent, StreamAppend
from orders.signed_checkpoints.signer import Cadence, Signer
from orders.signed_checkpoints.signing import Checkpoint, PublicKey, SigningKey, new_signing_key
from orders.signed_checkpoints.sink import DirectorySink
from tests.conftest import TEST_DATA
from tests.query import AUDIT, Projected, query_client, query_settings

pytestmark = pytest.mark.integration

LATEST, PUBLIC_KEY = "/audit/checkpoints/latest", "/audit/checkpoints/public-key"


async def _signed(store: EventStore, sink: DirectorySink, key: SigningKey, n: int) -> Checkpoint:
    await store.append([StreamAppend(f"order-{n}", Expect.NO_STREAM, [NewEvent("Placed", {})])])
    await store.sequence()
    checkpoint = await Signer(store, sink, key, Cadence(seconds=3600, events=1)).step()
    assert checkpoint is not None
    return checkpoint


def _refusal(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"detail", "code", "request_id"}, body
    return response.status_code, body["code"]


async def test_auditors_read_the_newest_checkpoint_and_the_key_that_signed_it(
    projected: Projected, database_url: str, tmp_path: Path
) -> None:
    sink, key = DirectorySink(tmp_path), SigningKey.from_hex(new_signing_key())
    settings = query_settings(TEST_DATA, ORDERS_CHECKPOINT_DIR=str(tmp_path))
    async with query_client(settings, database_url, projected.redis_url) as api:
        for path in (LATEST, PUBLIC_KEY):
            assert _refusal(await api.get(path, headers=AUDIT)) == (404, "no_checkpoint")
        sink.publish_key(key.public)
        await _signed(projected.store, sink, key, 1)
        newest = await _signed(projected.store, sink, key, 2)

        served = await api.get(LATEST, headers=AUDIT)
        assert served.status_code == 200, served.text
        assert served.json() == newest.model_dump()
        assert set(served.json()) == {"sequence", "feed_position", "hash", "signed_at", "key_id",
                                      "signature"}  # fmt: skip
        public = await api.get(PUBLIC_KEY, headers=AUDIT)
        assert public.json() == {"key_id": key.public.key_id, "algorithm": "Ed25519",
                                 "public_key": key.public.public_key}  # fmt: skip
        checkpoint = Checkpoint.model_validate(served.json())
        assert PublicKey.model_validate(public.json()).verifies(checkpoint)
        assert bytes.fromhex(checkpoint.hash) == await projected.store.feed_hash(2)


async def test_after_a_rotation_the_old_key_is_still_served_by_its_id(
    projected: Projected, database_url: str, tmp_path: Path
) -> None:
    sink = DirectorySink(tmp_path)
    old, new = SigningKey.from_hex(new_signing_key()), SigningKey.from_hex(new_signing_key())
    settings = query_settings(TEST_DATA, ORDERS_CHECKPOINT_DIR=str(tmp_path))
    async with query_client(settings, database_url, projected.redis_url) as api:
        sink.publish_key(old.public)
        before = await _signed(projected.store, sink, old, 1)
        sink.publish_key(new.public)
        after = await _signed(projected.store, sink, new, 2)
        assert after.sequence == before.sequence + 1, "numbering goes on across keys"

        assert (await api.get(LATEST, headers=AUDIT)).json()["key_id"] == new.public.key_id
        assert (await api.get(PUBLIC_KEY, headers=AUDIT)).json()["key_id"] == new.public.key_id
        served = await api.get(PUBLIC_KEY, params={"key_id": old.public.key_id}, headers=AUDIT)
        assert PublicKey.model_validate(served.json()).verifies(before)

        unknown = await api.get(PUBLIC_KEY, params={"key_id": "0" * 16}, headers=AUDIT)
        assert _refusal(unknown) == (404, "unknown_key")
        for bad in ("../../tokens", "ABCDEF0123456789", "0" * 17):
            refused = await api.get(PUBLIC_KEY, params={"key_id": bad}, headers=AUDIT)
            assert refused.status_code == 422, bad
            assert set(refused.json()) == {"detail", "code", "request_id"}


async def test_the_checkpoints_need_the_auditors_token(
    projected: Projected, database_url: str, tmp_path: Path
) -> None:
    settings = query_settings(TEST_DATA, ORDERS_CHECKPOINT_DIR=str(tmp_path))
    disabled = query_settings(TEST_DATA, ORDERS_CHECKPOINT_DIR=str(tmp_path),
                              ORDERS_AUDIT_TOKEN=None)  # fmt: skip
    async with query_client(settings, database_url, projected.redis_url) as api:
        for path in (LATEST, PUBLIC_KEY):
            assert _refusal(await api.get(path)) == (401, "unauthorized")
            wrong = await api.get(path, headers={"Authorization": "Bearer not-the-token"})
            assert _refusal(wrong) == (403, "forbidden")
    async with query_client(disabled, database_url, projected.redis_url) as api:
        for path in (LATEST, PUBLIC_KEY):
            assert _refusal(await api.get(path, headers=AUDIT)) == (404, "audit_disabled")
