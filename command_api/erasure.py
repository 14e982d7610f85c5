"""Erasing a person's data (GDPR art. 17) from an append-only log, by crypto-shredding.

    1. `PersonalDataErased` is appended to the client's stream (the command path, like any
       write): from there on its state, and every document rendered from it, holds no personal
       value; the event also releases the claim on the client's email.
    2. The person's data keys are destroyed: every earlier event's sealed values now open as
       null on every read path (history, `?as_of=`, the feed, a rebuild), while the events and
       the hash chain over their ciphertext stay exactly as they were.
    3. What was derived from the plain values goes: the stream's snapshots, and the person's
       values in stored idempotent responses (a retry gets the erased document back).
    4. Every process is told (a notice on Redis): they drop the person's keys and states now,
       not when their caches expire. The projector erases the read models as it applies 1.
    5. The erasure is written to the register outside the database, from which `orders erase
       reapply` destroys the keys again after a backup from before the erasure is restored.

Everything else about the client stays: its orders, bills and stock movements.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from command_api.handling import CommandPath, Edge, Outcome, handle
from domain.catalogue import BY_KIND
from domain.client import KIND, EraseClient
from domain.streams import stream_id

Notify = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Erased:
    client_id: int
    position: int  # the global position of `PersonalDataErased`
    keys_destroyed: int
    responses_erased: int


def _position(outcome: Outcome) -> bytes:
    return orjson.dumps(outcome.position)


async def erase_client(
    path: CommandPath, client_id: int, edge: Edge, *, notify: Notify, register: Path
) -> Erased:
    """Erase a client's personal data (NotFoundError for a client that never existed)."""
    _require_sealing(path)  # before anything is appended
    stream = stream_id(KIND, client_id)
    appended, _ = await handle(path, EraseClient(client_id), edge, _position)
    destroyed, rewritten = await _shred(path, stream, notify)
    write_register(register, stream, edge.at)
    return Erased(client_id, int(orjson.loads(appended)), destroyed, rewritten)


async def reapply_erasure(path: CommandPath, subject: str, edge: Edge, *, notify: Notify) -> bool:
    """An erasure from the register done again, after a backup from before it was restored:
    its keys destroyed again, and `PersonalDataErased` appended again when the restored log
    lacks it (else the documents would not say "erased" and the email's claim would be held).
    True when the event had to be appended again."""
    _require_sealing(path)
    state = (await path.states.load([subject]))[subject].state
    again = state is not None and not state.erased
    if again:
        await handle(path, EraseClient(state.id_key), edge, _position)
    await _shred(path, subject, notify)
    return again


async def _shred(path: CommandPath, stream: str, notify: Notify) -> tuple[int, int]:
    """Steps 2 to 4 above: (keys destroyed, stored responses erased)."""
    assert path.vault is not None, "checked by _require_sealing"
    destroyed = await path.vault.destroy(stream)
    await path.store.delete_snapshots([stream])
    rewritten = _erased_responses(await path.store.responses_of(stream))
    await path.store.replace_responses(rewritten)
    path.states.forget([stream])
    await notify(stream)
    return destroyed, len(rewritten)


class NotSealedError(Exception):
    """Personal data is not sealed here (ORDERS_SEAL_PERSONAL_DATA=false, a benchmark's
    setting): its plain values in the events could not be shredded, so no erasure is begun."""


def _require_sealing(path: CommandPath) -> None:
    if path.vault is None:
        raise NotSealedError(
            "personal data is not sealed here (ORDERS_SEAL_PERSONAL_DATA=false):"
            " it cannot be erased"
        )


def write_register(register: Path, subject: str, at: dt.datetime) -> None:
    """One line per erasure, appended (and flushed to disk) in a folder outside the database."""
    register.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"subject": subject, "erased_at": at.isoformat()})
    with (register / "erasures.jsonl").open("a") as out:
        out.write(line + "\n")
        out.flush()


def read_register(register: Path) -> list[str]:
    """The subjects the register says were erased, in the order they were."""
    path = register / "erasures.jsonl"
    if not path.exists():
        return []
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return list(dict.fromkeys(json.loads(line)["subject"] for line in lines))


# --- the person's values in stored responses --------------------------------------------------

_PERSONAL = BY_KIND[KIND].personal


def _erased_responses(stored: Mapping[str, bytes]) -> dict[str, bytes]:
    """Each stored response (the command API's envelope) with the personal values of its
    document nulled, as the document now reads."""
    return {key: _erased_envelope(response) for key, response in stored.items()}


def _erased_envelope(response: bytes) -> bytes:
    envelope: dict[str, Any] = orjson.loads(response)
    if envelope.get("body"):
        document = orjson.loads(envelope["body"])
        if isinstance(document, dict):
            erased = {k: None if k in _PERSONAL else v for k, v in document.items()}
            envelope["body"] = orjson.dumps({**erased, "erased": True}).decode()
    return orjson.dumps(envelope)
