"""`orders audit verify --checkpoints DIR --public-key FILE`: the feed's chain, and its hash at the
position of every signed checkpoint.

The chain check alone (`EventStore.verify`) recomputes every link from the stored events: it
catches an event changed behind the store's back, but not one changed with every hash after it
recomputed, since that chain is consistent again. A checkpoint signed before the change still
holds the old hash at its position, and no one without the signing key can sign a new one. Where
the chain verifies, stored and recomputed hashes are the same, so each checkpoint is compared with
the stored hash at its position: the first that disagrees is reported with the time it was
signed and the last checkpoint before it that still agrees. The change lies between the two; with
a checkpoint at every position, that is the changed event itself.

The checkpoints are checked first, and each fault is reported, never skipped: a line that is no
checkpoint (cut short, edited), a number missing from the signer's count, two different
checkpoints under one number, a signature that does not hold (forged, altered) or a key that is
not among those given (re-signed). Such a checkpoint takes no part in the comparison.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eventstore import EventStore, VerifyReport
from orders.signed_checkpoints import PublicKeyError, SinkError
from orders.signed_checkpoints.signing import Checkpoint, PublicKey, read_public_key
from orders.signed_checkpoints.sink import DirectorySink


@dataclass(frozen=True, slots=True)
class Disagreement:
    checkpoint: Checkpoint
    problem: str
    agreeing: Checkpoint | None  # the last checkpoint before it that agrees, if any


@dataclass
class Report:
    chain: VerifyReport
    problems: list[str] = field(default_factory=list)  # of the checkpoints themselves
    agreed: list[Checkpoint] = field(default_factory=list)  # compared, in feed order
    disagreement: Disagreement | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems and self.disagreement is None


def read_checkpoints(
    sinks: Sequence[DirectorySink], keys: Sequence[PublicKey]
) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint of the sinks (a sink and its custodians' copies: the same checkpoint in
    several is read once) whose signature holds under one of `keys`, and every fault found."""
    by_sequence: dict[int, tuple[str, Checkpoint]] = {}
    problems: list[str] = []
    for sink in sinks:
        for line in sink.read_lines():
            where, checkpoint = f"{sink.path / line.where}", line.checkpoint
            if checkpoint is None:
                problems.append(f"{where}: {line.problem}")
                continue
            first_where, first = by_sequence.setdefault(checkpoint.sequence, (where, checkpoint))
            if first != checkpoint:
                number = checkpoint.sequence
                problems.append(
                    f"{where}: checkpoint {number} differs from the one in {first_where}"
                )
    if not by_sequence and not problems:
        problems.append(f"no checkpoints in {', '.join(str(s.path) for s in sinks)}")
    problems += _missing(sorted(by_sequence))
    trusted = []
    by_id = {key.key_id: key for key in keys}
    for where, checkpoint in by_sequence.values():
        problem = _signature_problem(checkpoint, by_id)
        if problem:
            problems.append(f"{where}: checkpoint {checkpoint.sequence} {problem}")
        else:
            trusted.append(checkpoint)
    return trusted, problems


def _signature_problem(checkpoint: Checkpoint, keys: dict[str, PublicKey]) -> str | None:
    key = keys.get(checkpoint.key_id)
    if key is None:
        return f"is signed by key {checkpoint.key_id}, which is not among the public keys given"
    if not key.verifies(checkpoint):
        return f"has a signature that key {key.key_id} did not make (forged or altered)"
    return None


def _missing(sequences: Sequence[int]) -> Iterable[str]:
    for before, after in zip([0, *sequences], sequences, strict=False):
        if after - before == 2:  # noqa: PLR2004 - one number skipped
            yield f"checkpoint {before + 1} is missing ({_follows(before, after)})"
        elif after - before > 1:
            yield f"checkpoints {before + 1} to {after - 1} are missing ({_follows(before, after)})"


def _follows(before: int, after: int) -> str:
    return f"{before} is followed by {after}" if before else f"the first is {after}"


async def compare(
    store: EventStore, checkpoints: Sequence[Checkpoint], first: int = 1, last: int | None = None
) -> Report:
    """The chain from `first` to `last`, then the checkpoints in that range that it verified."""
    report = Report(await store.verify(first, last))
    upto = last  # past a break in the chain, stored hashes are no longer its hashes
    if report.chain.first_bad_position is not None:
        upto = report.chain.first_bad_position - 1
    ranged = sorted(
        (
            c
            for c in checkpoints
            if first <= c.feed_position and (upto is None or c.feed_position <= upto)
        ),
        key=lambda c: (c.feed_position, c.sequence),
    )
    stored = await store.feed_hashes(sorted({c.feed_position for c in ranged}))
    for checkpoint in ranged:
        digest = stored.get(checkpoint.feed_position)
        if digest is None or digest.hex() != checkpoint.hash:
            agreeing = report.agreed[-1] if report.agreed else None
            problem = "the feed does not reach it" if digest is None else "its hash differs"
            report.disagreement = Disagreement(checkpoint, problem, agreeing)
            break
        report.agreed.append(checkpoint)
    return report


async def verify_against(
    store: EventStore,
    sinks: Sequence[DirectorySink],
    keys: Sequence[PublicKey],
    first: int = 1,
    last: int | None = None,
) -> Report:
    checkpoints, problems = read_checkpoints(sinks, keys)
    report = await compare(store, checkpoints, first, last)
    report.problems = problems
    return report


def render(report: Report) -> list[str]:
    """What the CLI prints: each fault of the checkpoints, then the verdict on the chain."""
    lines = [f"checkpoints: {problem}" for problem in report.problems]
    d, chain, agreed = report.disagreement, report.chain, len(report.agreed)
    if d is not None:
        c = d.checkpoint
        lines.append(
            f"BROKEN at feed position {c.feed_position}: {d.problem} from checkpoint {c.sequence},"
            f" signed at {c.signed_at} by key {c.key_id}; the chain was rewritten at"
            f" {_span(d)} ({agreed} signed checkpoints agree before it)"
        )
    elif not chain.ok:
        lines.append(
            f"BROKEN at feed position {chain.first_bad_position}: {chain.problem}"
            f" ({chain.checked} positions verified before it; {agreed} signed checkpoints agree)"
        )
    elif agreed:
        newest = report.agreed[-1]
        lines.append(
            f"ok: {chain.checked} feed positions verified; {agreed} signed checkpoints agree"
            f" (the newest at feed position {newest.feed_position}, signed at {newest.signed_at})"
        )
    else:
        lines.append(f"ok: {chain.checked} feed positions verified; no checkpoint covers them")
    return lines


def _span(d: Disagreement) -> str:
    position = d.checkpoint.feed_position
    after = d.agreeing.feed_position if d.agreeing else 0
    since = f" (position {after} agrees: checkpoint {d.agreeing.sequence})" if d.agreeing else ""
    if after == position - 1:
        return f"this very position{since}"
    return f"a position from {after + 1} to {position}{since}"


def run(
    database_url: str,
    directories: Sequence[Path],
    key_files: Sequence[Path],
    first: int = 1,
    last: int | None = None,
) -> int:
    """The CLI's verify with checkpoints: prints the report, exits 1 unless all is well."""
    if not key_files:
        raise PublicKeyError(
            "--checkpoints needs --public-key FILE: the key the auditors were given"
            " (never one read from the checkpoints' own directory)"
        )
    keys = [read_public_key(path) for path in key_files]
    for directory in directories:
        if not directory.is_dir():
            raise SinkError(f"no checkpoints directory {directory}")
    sinks = [DirectorySink(directory) for directory in directories]

    async def verify() -> Report:
        async with await EventStore.open(database_url, application_name="audit-verify") as store:
            await store.sequence()
            return await verify_against(store, sinks, keys, first, last)

    report = asyncio.run(verify())
    for line in render(report):
        print(line)  # noqa: T201
    return 0 if report.ok else 1
