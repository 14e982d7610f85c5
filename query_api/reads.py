"""What a read returns, whichever store answered it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from readmodels.schema import Table

Source = Literal["redis", "postgres"]


@dataclass(frozen=True, slots=True)
class Read:
    """The bytes to send (None: no such document), where they came from, and the feed position
    the read model had at least reached when they were read."""

    body: bytes | None
    source: Source
    position: int


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: `filters` maps a table's filter fields to their values."""

    table: Table
    skip: int
    limit: int
    filters: Mapping[str, Any] = field(default_factory=dict)
