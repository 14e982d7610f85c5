"""A checkpoint, what is signed, and the keys.

A checkpoint says "the feed's chain hash at `feed_position` was `hash`", dated (`signed_at`) and
numbered by the signer (`sequence`, contiguous from 1, so that a line removed from the sink
shows). What is signed with Ed25519 is the UTF-8 text

    orders-checkpoint/1 <sequence> <feed_position> <hash> <signed_at>

(the fields as they stand in the checkpoint, single spaces), so anyone can check a checkpoint
with the public key and any Ed25519 implementation. A key is named by its `key_id`: the first
16 hex digits of the SHA-256 of its raw 32-byte public key. An id is derived, never chosen: no
other key can claim it, and after a rotation the old checkpoints name the old key.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from orders.signed_checkpoints import PublicKeyError, SigningKeyError

MESSAGE_PREFIX = "orders-checkpoint/1"
KEY_ID_DIGITS = 16


class Checkpoint(BaseModel):
    """One signed checkpoint of the feed's head: a line of the sink, and what the API serves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sequence: int = Field(ge=1, description="The signer's count, from 1 without gaps.")
    feed_position: int = Field(ge=1, description="The feed position whose hash is signed.")
    hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The feed's SHA-256 chain hash there (hex)."
    )
    signed_at: str = Field(description="When it was signed: ISO 8601 with its UTC offset.")
    key_id: str = Field(
        pattern=r"^[0-9a-f]{16}$", description="The signing key: the first 16 hex digits of the"
        " SHA-256 of its raw public key (`/audit/checkpoints/public-key`).",
    )  # fmt: skip
    signature: str = Field(
        pattern=r"^[0-9a-f]{128}$", description="Ed25519 over the UTF-8 text `orders-checkpoint/1"
        " <sequence> <feed_position> <hash> <signed_at>` (hex).",
    )  # fmt: skip

    @field_validator("signed_at")
    @classmethod
    def _dated(cls, text: str) -> str:
        if datetime.fromisoformat(text).tzinfo is None:  # a malformed one raises ValueError
            raise ValueError("signed_at needs its UTC offset")
        return text  # kept as written: it is part of what was signed

    def message(self) -> bytes:
        return message(self.sequence, self.feed_position, self.hash, self.signed_at)


def message(sequence: int, feed_position: int, hash_hex: str, signed_at: str) -> bytes:
    return f"{MESSAGE_PREFIX} {sequence} {feed_position} {hash_hex} {signed_at}".encode()


def key_id(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()[:KEY_ID_DIGITS]


class PublicKey(BaseModel):
    """A key checkpoints are checked with: what `/audit/checkpoints/public-key` serves, and what
    `orders audit verify --public-key FILE` reads (this document, or a PEM public key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(pattern=r"^[0-9a-f]{16}$", description="Derived from the key itself.")
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The raw 32-byte Ed25519 public key (hex)."
    )

    @classmethod
    def of(cls, raw: bytes) -> Self:
        return cls(key_id=key_id(raw), public_key=raw.hex())

    def verifies(self, checkpoint: Checkpoint) -> bool:
        """The checkpoint names this key and its signature holds."""
        if checkpoint.key_id != self.key_id:
            return False
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))
        try:
            key.verify(bytes.fromhex(checkpoint.signature), checkpoint.message())
        except InvalidSignature:
            return False
        return True


class SigningKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = PublicKey.of(private.public_key().public_bytes_raw())

    @classmethod
    def from_setting(cls, secret: SecretStr | None) -> Self:
        """The key in ORDERS_CHECKPOINT_KEY."""
        if secret is None:
            raise SigningKeyError(
                "ORDERS_CHECKPOINT_KEY is not set: make one with `orders checkpoints new-key`,"
                " keep it secret, and give its public key to the auditors"
            )
        return cls.from_hex(secret.get_secret_value())

    @classmethod
    def from_hex(cls, text: str) -> Self:
        """64 hex digits: the raw 32-byte private key."""
        try:
            return cls(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text.strip())))
        except ValueError:
            raise SigningKeyError(
                "ORDERS_CHECKPOINT_KEY must be 64 hex digits (an Ed25519 private key);"
                " `orders checkpoints new-key` makes one"
            ) from None  # the message would quote the secret

    def sign(self, sequence: int, feed_position: int, digest: bytes, at: datetime) -> Checkpoint:
        signed_at = at.astimezone(UTC).isoformat(timespec="microseconds")
        text = message(sequence, feed_position, digest.hex(), signed_at)
        return Checkpoint(
            sequence=sequence,
            feed_position=feed_position,
            hash=digest.hex(),
            signed_at=signed_at,
            key_id=self.public.key_id,
            signature=self._private.sign(text).hex(),
        )


def new_signing_key() -> str:
    """A fresh private key, as ORDERS_CHECKPOINT_KEY holds it."""
    return Ed25519PrivateKey.generate().private_bytes_raw().hex()


def read_public_key(path: Path) -> PublicKey:
    """A public-key file: the JSON document the query API serves, or a PEM public key."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise PublicKeyError(f"cannot read the public key {path}: {e}") from e
    if text.lstrip().startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(text.encode())
        except ValueError as e:
            raise PublicKeyError(f"{path} is not a PEM public key") from e
        if not isinstance(key, Ed25519PublicKey):
            raise PublicKeyError(f"{path} is not an Ed25519 public key")
        return PublicKey.of(key.public_bytes_raw())
    try:
        document = PublicKey.model_validate_json(text)
    except ValidationError as e:
        raise PublicKeyError(
            f"{path} is neither a PEM public key nor the JSON of /audit/checkpoints/public-key"
        ) from e
    if PublicKey.of(bytes.fromhex(document.public_key)) != document:
        raise PublicKeyError(f"{path}: key_id {document.key_id} is not the id of its key")
    return document
