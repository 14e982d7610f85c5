"""Latency samples and the one table every benchmark prints."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    figure: float  # per second
    unit: str
    p50_ms: float | None
    p99_ms: float | None
    baseline_name: str
    baseline: float | None
    generator: str = ""  # what measured it: a load generator, or "" for an in-process driver

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.figure / self.baseline


def percentile_ms(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0] * 1000
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] * 1000


def markdown(rows: list[Row]) -> str:
    lines = [
        "| measurement | figure | p50 ms | p99 ms | baseline (same run) | ratio | measured by |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        p50 = "" if r.p50_ms is None else f"{r.p50_ms:.1f}"
        p99 = "" if r.p99_ms is None else f"{r.p99_ms:.1f}"
        base = "" if r.baseline is None else f"{r.baseline_name}: {r.baseline:,.0f} /s"
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        figure = f"{r.figure:,.0f}" if r.figure >= 100 else f"{r.figure:.2f}"  # noqa: PLR2004
        by = r.generator or "in-process driver"
        lines.append(f"| {r.name} | {figure} {r.unit} | {p50} | {p99} | {base} | {ratio} | {by} |")
    return "\n".join(lines)


def save(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = [{**asdict(r), "ratio": r.ratio} for r in rows]
    path.write_text(json.dumps(payload, indent=2))
