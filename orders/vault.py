"""Personal data, sealed in the events so that it can be erased from an append-only log
(crypto-shredding).

Which fields are personal is the catalogue's (`Entity.personal`, and the `previous_` values
events carry of them). Each person (the subject: a client's stream, which also holds its
addresses) has a data key of its own, AES-256-GCM from `cryptography`, kept in the event store's
`data_keys` wrapped by the master key (ORDERS_MASTER_KEY). A sealed value is a string

    enc1.<key generation>.<base64url(nonce | ciphertext)>

bound to its subject and field (the AEAD's associated data), so it cannot be moved to another
person or field unnoticed. Erasure destroys the subject's keys: every read path then opens its
values as null, while the events, and the hash chain over their ciphertext, stay as they were.
Values written before sealing existed, or with it turned off (plain strings in personal
fields), are read as they are while their subject has never been erased, and as null once it
has (a destroyed key generation is the mark, which an erasure leaves even for a subject that
never had a key): the erasure covers them on every read path too. Their bytes stay in `events`
until the store is copied (`orders store copy`, in `orders.store_copy`).

Unique values that identify a person (a client's email) are claimed as a keyed hash (HMAC-SHA256
under a key of its own, kept like a data key), never as the value.

Keys are cached per process for a few seconds, for at most `CACHE_SUBJECTS` subjects; an
erasure also tells every process at once (`forget`, called on the erasure notice).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.catalogue import AGGREGATES
from eventstore import JSON, DataKey, EventStore
from orders.settings import Settings

PREFIX = "enc1."
CLAIMS_SUBJECT = "$claims"  # the subject whose key hashes the personal claims
CACHE_SECONDS = 5.0
# The most subjects whose keys a process holds: a rebuild's loader reads every client, and a
# long-lived API touches more and more of them. The oldest read go first; past CACHE_SECONDS
# they would be read again anyway.
CACHE_SUBJECTS = 10_000
NONCE = 12

# stream kind -> the field names that hold personal data in its events and states
PERSONAL: Mapping[str, frozenset[str]] = {a.kind: a.personal for a in AGGREGATES if a.personal}
PERSONAL_CLAIMS = frozenset().union(*(a.personal_claims for a in AGGREGATES))


class VaultError(Exception):
    """A sealed value that does not open with its live key: tampered with, or not ours."""


class MasterKeyMissingError(Exception):
    """Personal data is sealed by default, and no ORDERS_MASTER_KEY is set."""


def master_key(settings: Settings) -> MasterKey | None:
    """The configured master key; None only when sealing is turned off (a benchmark's)."""
    if not settings.seal_personal_data:
        return None
    if settings.master_key is None:
        raise MasterKeyMissingError(
            "ORDERS_MASTER_KEY is not set: personal data cannot be sealed. Generate one with"
            " `orders keys new-master` and keep it outside the database (`orders up` makes one"
            " for development in the data folder)"
        )
    master = MasterKey.parse(settings.master_key.get_secret_value())
    if settings.previous_master_key is None:
        return master
    return master.after(MasterKey.parse(settings.previous_master_key.get_secret_value()))


@dataclass(frozen=True, slots=True)
class MasterKey:
    """The key data keys are wrapped with, and during a rotation the one before it: keys still
    wrapped by the previous one keep opening until `orders keys rewrap` has moved them all."""

    key: bytes
    previous: MasterKey | None = None

    def after(self, previous: MasterKey) -> MasterKey:
        return MasterKey(self.key, MasterKey(previous.key))

    def by_id(self, master_id: str) -> MasterKey | None:
        """This key or the previous one, whichever has this id."""
        return next((m for m in (self, self.previous) if m and m.id == master_id), None)

    @classmethod
    def parse(cls, text: str) -> MasterKey:
        try:
            key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except (binascii.Error, ValueError) as e:
            raise ValueError("ORDERS_MASTER_KEY is not base64") from e
        if len(key) != 32:  # noqa: PLR2004 - AES-256
            raise ValueError("ORDERS_MASTER_KEY must be 32 bytes (base64), for AES-256")
        return cls(key)

    @staticmethod
    def generate() -> str:
        """A new master key, as ORDERS_MASTER_KEY spells it."""
        return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")

    @property
    def id(self) -> str:
        """Names the master key beside each key it wraps (for rotation), revealing nothing."""
        return hashlib.sha256(b"orders master key id|" + self.key).hexdigest()[:16]

    def wrap(self, subject: str, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + AESGCM(self.key).encrypt(nonce, data_key, _aad("key", subject))

    def unwrap(self, subject: str, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self.key).decrypt(wrapped[:NONCE], wrapped[NONCE:], _aad("key", subject))
        except InvalidTag as e:
            raise VaultError(f"the data key of {subject} does not open with this master key") from e


def _aad(*parts: str) -> bytes:
    return "|".join(parts).encode()


@dataclass(frozen=True, slots=True)
class SubjectKeys:
    """A subject's key generations as this process last read them (None: destroyed)."""

    by_generation: Mapping[int, bytes | None]
    read_at: float

    @property
    def current(self) -> tuple[int, bytes] | None:
        live = [(g, k) for g, k in self.by_generation.items() if k is not None]
        return max(live) if live else None

    @property
    def erased(self) -> bool:
        """Some generation was destroyed: the subject's plain (pre-sealing) values are gone."""
        return any(key is None for key in self.by_generation.values())


class Vault:
    def __init__(self, store: EventStore, master: MasterKey) -> None:
        self.store = store
        self.master = master
        self._keys: dict[str, SubjectKeys] = {}

    # --- sealing, on the write path ----------------------------------------------------------

    async def seal(self, stream: str, datas: Sequence[JSON]) -> list[JSON]:
        """Event (or state) data of a stream with its personal values sealed under the
        subject's current key (made on the subject's first personal value)."""
        names = PERSONAL.get(stream.rpartition("-")[0])
        if names is None or not any(_holds(data, names) for data in datas):
            return list(datas)
        generation, key = await self._current(stream)
        cipher = AESGCM(key)
        return [_sealed(data, names, stream, generation, cipher) for data in datas]

    async def claim_value(self, scope: str, value: str) -> str:
        """What a claim stores of a value: a keyed hash for a personal scope, else the value."""
        if scope not in PERSONAL_CLAIMS:
            return value
        _, key = await self._current(CLAIMS_SUBJECT)
        return hmac.new(key, f"{scope}|{value}".encode(), hashlib.sha256).hexdigest()

    # --- opening, on every read path (the event store's `unseal`) -----------------------------

    async def unseal(self, items: Sequence[tuple[str, JSON]]) -> list[JSON]:
        """Each data with its sealed values opened, and its plain personal values (written
        before sealing) kept or, for an erased subject, nulled. Only data holding a personal
        value needs its subject's keys, read for all of them at once (and cached)."""
        subjects = {s for s, data in items if (n := _personal_of(s)) and _holds(data, n)}
        if not subjects:
            return [data for _, data in items]
        keys = await self._read(subjects)
        return [
            _opened(data, PERSONAL[stream.rpartition("-")[0]], stream, keys[stream])
            if stream in subjects
            else data
            for stream, data in items
        ]

    # --- copying a store (`orders.store_copy`): every personal value sealed ----------------------

    async def resealed(self, items: Sequence[tuple[str, JSON]]) -> list[JSON]:
        """Stored data as a copy of the store holds it: plain personal values sealed under the
        subject's current key (made when it has none), an erased subject's values (plain, or
        sealed under a destroyed generation) dropped as null, live sealed values as they are.
        The subjects' keys are read once for the whole batch, as `unseal` does."""
        subjects = {s for s, data in items if (n := _personal_of(s)) and _holds(data, n)}
        if not subjects:
            return [data for _, data in items]
        keys = await self._read(subjects)
        live = await self._currents({s for s in subjects if not keys[s].erased})
        ciphers = {s: (generation, AESGCM(key)) for s, (generation, key) in live.items()}
        return [
            _resealed(data, _Reseal(PERSONAL[s.rpartition("-")[0]], s, keys[s], ciphers.get(s)))
            if s in subjects
            else data
            for s, data in items
        ]

    # --- keys -----------------------------------------------------------------------------------

    def forget(self, subject: str) -> None:
        """Drop what this process holds of a subject's keys (an erasure's notice)."""
        self._keys.pop(subject, None)

    async def destroy(self, subject: str) -> int:
        """Destroy every key of the subject. A subject that never had one (its data all written
        before sealing) gets one first: its destroyed generation is what tells every reader to
        null the subject's plain values."""
        if not (await self._read({subject}))[subject].by_generation:
            await self._current(subject)
        self.forget(subject)
        return await self.store.destroy_data_keys(subject)

    async def _current(self, subject: str) -> tuple[int, bytes]:
        return (await self._currents({subject}))[subject]

    async def _currents(self, subjects: set[str]) -> dict[str, tuple[int, bytes]]:
        """Each subject's current key; those with none yet, or every one destroyed by an
        erasure, get a new generation, all in one round trip (then one to read them)."""
        keys = await self._read(subjects)
        missing = {s: self.master.wrap(s, os.urandom(32)) for s in subjects if not keys[s].current}
        if missing:
            await self.store.create_data_keys(missing, self.master.id)
            for subject in missing:
                self.forget(subject)
            keys.update(await self._read(set(missing)))
        current = {s: keys[s].current for s in subjects}
        assert all(current.values()), "a key was just made for every subject without one"
        return {s: c for s, c in current.items() if c is not None}

    async def _read(self, subjects: set[str]) -> dict[str, SubjectKeys]:
        now = time.monotonic()
        fresh = {
            s: k for s in subjects if (k := self._keys.get(s)) and now - k.read_at < CACHE_SECONDS
        }
        missing = sorted(subjects - fresh.keys())
        if missing:
            for subject, rows in (await self.store.read_data_keys(missing)).items():
                by_generation = {
                    row.generation: None if row.wrapped is None else self._unwrapped(row)
                    for row in rows
                }
                self._keys.pop(subject, None)  # to the end: the cache is in the order read
                fresh[subject] = self._keys[subject] = SubjectKeys(by_generation, now)
            for _ in range(len(self._keys) - CACHE_SUBJECTS):
                del self._keys[next(iter(self._keys))]
        return fresh

    @property
    def subjects_held(self) -> int:
        """How many subjects' keys this process holds."""
        return len(self._keys)

    def _unwrapped(self, row: DataKey) -> bytes:
        master = self.master.by_id(row.master_id)
        if master is None:
            raise VaultError(
                f"the data key of {row.subject} is wrapped by master key {row.master_id}, neither"
                f" ORDERS_MASTER_KEY ({self.master.id}) nor ORDERS_PREVIOUS_MASTER_KEY: give the"
                " key it was wrapped by as ORDERS_PREVIOUS_MASTER_KEY and run `orders keys rewrap`"
            )
        assert row.wrapped is not None, "a destroyed key is never unwrapped"
        return master.unwrap(row.subject, row.wrapped)

    async def rewrap(self) -> int:
        """Every live data key wrapped by the previous master key wrapped anew by the current
        one (the rotation's second step)."""
        moved = []
        for row in await self.store.read_live_keys():
            if row.master_id == self.master.id:
                continue
            old = self.master.by_id(row.master_id)
            if old is None:
                raise VaultError(f"the data key of {row.subject} is wrapped by {row.master_id}")
            assert row.wrapped is not None
            key = old.unwrap(row.subject, row.wrapped)
            wrapped = self.master.wrap(row.subject, key)
            moved.append(DataKey(row.subject, row.generation, wrapped, self.master.id))
        self._keys.clear()
        return await self.store.rewrap_keys(moved)


# --- the walk over event and state data ----------------------------------------------------------


def _holds(data: Any, names: frozenset[str]) -> bool:
    if isinstance(data, dict):
        return any((k in names and isinstance(v, str)) or _holds(v, names) for k, v in data.items())
    if isinstance(data, list):
        return any(_holds(item, names) for item in data)
    return False


def _sealed(data: Any, names: frozenset[str], subject: str, generation: int, cipher: AESGCM) -> Any:
    if isinstance(data, dict):
        return {
            k: _seal_value(v, subject, k, generation, cipher)
            if k in names and isinstance(v, str)
            else _sealed(v, names, subject, generation, cipher)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_sealed(item, names, subject, generation, cipher) for item in data]
    return data


def _seal_value(value: str, subject: str, name: str, generation: int, cipher: AESGCM) -> str:
    nonce = os.urandom(NONCE)
    sealed = nonce + cipher.encrypt(nonce, value.encode(), _aad("value", subject, name))
    return f"{PREFIX}{generation}.{base64.urlsafe_b64encode(sealed).decode()}"


def _personal_of(stream: str) -> frozenset[str] | None:
    return PERSONAL.get(stream.rpartition("-")[0])


def _opened(
    data: Any, names: frozenset[str], subject: str, keys: SubjectKeys, name: str = ""
) -> Any:
    if isinstance(data, dict):
        return {k: _opened(v, names, subject, keys, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_opened(item, names, subject, keys, name) for item in data]
    if isinstance(data, str) and data.startswith(PREFIX):
        return _open_value(data, subject, name, keys)
    if isinstance(data, str) and name in names and keys.erased:  # plain, from before sealing
        return None
    return data


@dataclass(frozen=True, slots=True)
class _Reseal:
    """How a subject's personal values are copied (`Vault.resealed`)."""

    names: frozenset[str]
    subject: str
    keys: SubjectKeys
    cipher: tuple[int, AESGCM] | None  # the current key; None: the subject is erased

    def value(self, name: str, value: str) -> str | None:
        if value.startswith(PREFIX):  # kept while its generation lives: its key is copied too
            generation = value[len(PREFIX) :].partition(".")[0]
            live = generation.isdigit() and self.keys.by_generation.get(int(generation))
            return value if live else None
        if self.cipher is None:
            return None
        return _seal_value(value, self.subject, name, *self.cipher)


def _resealed(data: Any, how: _Reseal, name: str = "") -> Any:
    if isinstance(data, dict):
        return {k: _resealed(v, how, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_resealed(item, how, name) for item in data]
    if isinstance(data, str) and name in how.names:
        return how.value(name, data)
    return data


def _open_value(value: str, subject: str, name: str, keys: SubjectKeys) -> str | None:
    generation_text, _, sealed = value[len(PREFIX) :].partition(".")
    key = keys.by_generation.get(int(generation_text)) if generation_text.isdigit() else None
    if key is None:  # the generation was destroyed (or never existed here): erased
        return None
    raw = base64.urlsafe_b64decode(sealed)
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], _aad("value", subject, name))
    except InvalidTag as e:
        raise VaultError(f"a sealed value of {subject} ({name}) does not open") from e
    return plain.decode()
