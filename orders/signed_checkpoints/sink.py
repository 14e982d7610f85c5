"""The directory sink: checkpoints appended as lines of JSON to one file per UTC day
(`checkpoints-YYYY-MM-DD.jsonl`), and the public keys that signed them (`keys/<key_id>.json`).

Append-only by construction: each checkpoint is one write of one line to a file opened with
O_APPEND, flushed to disk before the signer goes on; nothing here rewrites or removes a line, so
a day's file can be shipped, or made immutable, once the day is over. A line is complete when it
ends with a newline: one cut short (a crash mid-write, a hand edit) is reported by `read_lines`,
never skipped, and the signer starts its next line on a fresh one.

Whoever can write to the database should not be able to write here: in production the directory
lives on another machine's disk or volume, and custodians copy it (or collect the API's newest
checkpoint) somewhere of their own. `audit.py` reads any number of such copies.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from orders.signed_checkpoints import SinkError
from orders.signed_checkpoints.signing import Checkpoint, PublicKey

TAIL_BYTES = 64 * 1024  # far more than a line: where the newest checkpoint is looked for
LOCK_FILE = ".signer.lock"
KEY_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class Line:
    """A line of a checkpoints file: its checkpoint, or why it is none."""

    where: str  # "checkpoints-2026-11-26.jsonl:12"
    checkpoint: Checkpoint | None
    problem: str | None = None


def parse(raw: bytes) -> Checkpoint:
    """One line (without its newline); ValueError when it is no checkpoint."""
    try:
        return Checkpoint.model_validate_json(raw)
    except ValidationError as e:
        raise ValueError(str(e.errors()[0]["msg"])) from e


class DirectorySink:
    def __init__(self, path: Path) -> None:
        self.path = path

    def files(self) -> list[Path]:
        """Every checkpoints file here (a custodian's copy may name them otherwise), in order."""
        return sorted(self.path.glob("*.jsonl")) if self.path.is_dir() else []

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        day = datetime.fromisoformat(checkpoint.signed_at).astimezone(UTC).date()
        path = self.path / f"checkpoints-{day.isoformat()}.jsonl"
        line = checkpoint.model_dump_json().encode() + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if _ends_cut_short(path):  # the cut line stays for the auditors to see, on its own
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_lines(self) -> Iterator[Line]:
        for path in self.files():
            raws = path.read_bytes().split(b"\n")
            for number, raw in enumerate(raws[:-1], start=1):
                yield _line(f"{path.name}:{number}", raw)
            if raws[-1]:  # text after the last newline: a line that was never finished
                yield Line(f"{path.name}:{len(raws)}", None, "cut short (no end of line)")

    def latest(self) -> Checkpoint | None:
        """The newest complete checkpoint, read from the end of the newest files."""
        for path in reversed(self.files()):
            for raw in reversed(_complete_tail(path)):
                try:
                    return parse(raw)
                except ValueError:
                    continue
        return None

    def publish_key(self, key: PublicKey) -> None:
        """The signer's public key beside its checkpoints (for the API to serve; auditors check
        against the key they were given, never against this copy)."""
        keys = self.path / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        path = keys / f"{key.key_id}.json"
        if not path.exists():
            path.write_text(key.model_dump_json() + "\n")

    def read_key(self, key_id: str) -> PublicKey | None:
        path = self.path / "keys" / f"{key_id}.json"
        if not KEY_ID.fullmatch(key_id) or not path.is_file():
            return None
        try:
            return PublicKey.model_validate_json(path.read_text())
        except ValidationError:
            return None  # not a key: as good as none

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Held by the one signer appending here: two would number their checkpoints alike."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / LOCK_FILE).open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SinkError(f"another signer is appending to {self.path}") from None
            yield


def _line(where: str, raw: bytes) -> Line:
    try:
        return Line(where, parse(raw))
    except ValueError as e:
        return Line(where, None, f"not a checkpoint ({e})")


def _ends_cut_short(path: Path) -> bool:
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return False
        f.seek(size - 1)
        return f.read(1) != b"\n"


def _complete_tail(path: Path) -> list[bytes]:
    """The complete lines at the end of a file (the first of the chunk may be partial)."""
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(size - TAIL_BYTES, 0))
        lines = f.read().split(b"\n")[:-1]
    return lines[1:] if size > TAIL_BYTES else lines
