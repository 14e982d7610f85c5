"""What the traffic sent and what came back: every write under its Idempotency-Key with its
definitive answer (`Write`, kept in a `Ledger` that the invariants hold against the event
store), every erasure with the personal values it must have removed (`Erasure`), and every
request's outcome by status and error code (`Tally`), with the reads of the traffic's own writes
(`own_reads`: read-your-writes, across instances when there are several)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Write:
    key: str
    method: str
    path: str
    body: dict[str, Any] | None
    status: int | None = None  # the definitive answer's; None while unresolved
    code: str | None = None  # the error code of a refusal
    token: str | None = None  # X-Consistency-Token: the write appended events
    document: dict[str, Any] | None = None
    attempts: int = 0
    instance: int = 0  # which instance of the command API gave the definitive answer

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300  # noqa: PLR2004


@dataclass
class Tally:
    """Requests sent and what came back: `outcomes` by status and error code or by transport
    error, `sources` by the X-Read-Source of successful reads."""

    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    # a read of the traffic's own write with its token: "seen" (the write's document),
    # "refused" (503: not caught up in time, never stale), "stale" (anything else: a finding);
    # "crossed" counts the reads sent to another instance than the one that took the write
    own_reads: Counter[str] = field(default_factory=Counter)
    stale: list[str] = field(default_factory=list)

    def note(self, response: httpx.Response | None, error: Exception | None = None) -> None:
        self.requests += 1
        if response is None:
            self.outcomes[f"transport {type(error).__name__}"] += 1
            return
        code = error_code(response)
        self.outcomes[f"{response.status_code} {code}" if code else str(response.status_code)] += 1
        source = response.headers.get("x-read-source")
        if source and response.status_code == 200:  # noqa: PLR2004
            self.sources[source] += 1

    def count(self, prefix: str) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome.startswith(prefix))


@dataclass(frozen=True)
class Erasure:
    """`POST /admin/erasures` of a client, and every personal value the traffic gave it (each
    one found nowhere else, so that finding it anywhere is finding theirs)."""

    client_id: int
    values: frozenset[str]
    write: Write  # sent without an Idempotency-Key: erasing again is harmless, so not keyed


@dataclass
class Ledger:
    writes: list[Write] = field(default_factory=list)
    erasures: list[Erasure] = field(default_factory=list)

    def unresolved(self) -> list[Write]:
        return [w for w in [*self.writes, *(e.write for e in self.erasures)] if w.status is None]


def error_code(response: httpx.Response) -> str | None:
    if response.status_code < 400:  # noqa: PLR2004
        return None
    try:
        body = response.json()
    except ValueError:
        return "no-json"
    return str(body.get("code")) if isinstance(body, dict) else "no-shape"
