"""Unique values and locators, as claims the event store enforces in the append transaction.

A claim is a `(scope, value)` pair owned by one stream. The store keeps a table
`(scope, value) -> owner stream`, applies an append's releases, then its claims, and refuses
the whole append when a claim is already owned by another stream.

Each aggregate declares the claims its events take and release (`Aggregate.claims`): unique
values (a client's email, a category's name, a bill's number) and locators, by which the
command side finds the stream holding a sub-entity (an address's client, an order line's
order). Events carry the previous value of a claimed field so that claims stay a pure function
of the event. `domain.catalogue.claim_changes` collects an append's claims.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Claim:
    scope: str
    value: str


def swap(new: list[Claim], old: list[Claim]) -> tuple[list[Claim], list[Claim]]:
    """Claim `new`, release `old`, unless they normalise to the same value."""
    return ([], []) if new == old else (new, old)


@dataclass(frozen=True, slots=True)
class ClaimChanges:
    """An append's claim work, as (claim, owner stream) pairs: apply `released` first.

    Releasing first lets one append hand a value from one stream to another (an address moved
    to another client, a line moved to another order, a bill number freed and reused).
    """

    released: list[tuple[Claim, str]] = field(default_factory=list)
    claimed: list[tuple[Claim, str]] = field(default_factory=list)
