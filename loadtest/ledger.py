"""What the traffic sent and what came back: every write under its Idempotency-Key with its
definitive answer (`Write`, kept in a `Ledger` that the invariants hold against the event
store), and every request's outcome by status and error code (`Tally`)."""

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


@dataclass
class Ledger:
    writes: list[Write] = field(default_factory=list)

    def unresolved(self) -> list[Write]:
        return [w for w in self.writes if w.status is None]


def error_code(response: httpx.Response) -> str | None:
    if response.status_code < 400:  # noqa: PLR2004
        return None
    try:
        body = response.json()
    except ValueError:
        return "no-json"
    return str(body.get("code")) if isinstance(body, dict) else "no-shape"
