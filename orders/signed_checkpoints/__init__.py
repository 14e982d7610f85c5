"""Signed checkpoints of the feed: the chain's head, signed with Ed25519 and kept outside
PostgreSQL, so that a chain rewritten by someone who can write to the database (every hash after
the change recomputed, which `orders audit verify` alone cannot see) is caught.

    signing.py  the checkpoint, the message that is signed, the keys and their ids
    sink.py     the directory the signer appends checkpoints to, one line each
    signer.py   `orders checkpoints sign`: sign the head every N seconds or M events
    audit.py    `orders audit verify --checkpoints`: the chain against every checkpoint

Exceptions (all from `CheckpointsError`, each worth one line to an operator):

    CheckpointsError
    ├── SigningKeyError     ORDERS_CHECKPOINT_KEY is missing or not an Ed25519 private key
    ├── PublicKeyError      a public-key file is unreadable, not Ed25519, or names another key
    └── SinkError           the checkpoints' directory is missing, or held by another signer
"""


class CheckpointsError(Exception):
    pass


class SigningKeyError(CheckpointsError):
    pass


class PublicKeyError(CheckpointsError):
    pass


class SinkError(CheckpointsError):
    pass


__all__ = ["CheckpointsError", "PublicKeyError", "SigningKeyError", "SinkError"]
