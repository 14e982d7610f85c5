"""`orders soak --minutes N`: the original's flows as mixed traffic against a cluster of the
platform's services, with a random fault from `loadtest.faults` every few seconds, for a
bounded time; then every fault healed, every unanswered write sent again with its key, and the
final invariants of `loadtest.invariants` checked over the whole log.

It prints the faults injected by kind, the requests sent, the responses by status and error
code, the reads by source and the invariant checks, and exits 1 if any check failed. A 5xx
other than 503 is a failed check too: no fault may turn into an internal error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtest import faults, invariants
from loadtest.cluster import ADMIN_TOKEN, Cluster
from loadtest.invariants import Check
from loadtest.ledger import Ledger, Tally
from loadtest.traffic import Catalogue, Shop, resolve, run_shoppers

log = logging.getLogger("loadtest.soak")

CALM_SECONDS = (2.0, 6.0)  # between two faults


@dataclass
class Report:
    seconds: float
    faults: dict[str, int]
    fault_failures: list[str]
    tally: Tally
    ledger: Ledger
    instances: int = 1
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and not self.fault_failures

    def render(self) -> str:
        writes = self.ledger.writes
        answered = Counter(
            "acknowledged" if w.acknowledged else "unanswered" if w.status is None else "refused"
            for w in writes
        )
        erased = sum(e.write.acknowledged for e in self.ledger.erasures)
        lines = [
            f"soak: {self.seconds:.0f} s of traffic with faults",
            "faults injected: "
            + (", ".join(f"{k} {n}" for k, n in sorted(self.faults.items())) or "none"),
            f"requests sent: {self.tally.requests}",
            "responses: " + ", ".join(f"{k} {n}" for k, n in sorted(self.tally.outcomes.items())),
            "reads by source: "
            + (", ".join(f"{k} {n}" for k, n in sorted(self.tally.sources.items())) or "none"),
            f"instances of each service: {self.instances}",
            f"erasures: {erased} acknowledged, {len(self.ledger.erasures)} sent",
            f"writes: {len(writes)} ("
            + ", ".join(f"{k} {n}" for k, n in sorted(answered.items()))
            + f"), {sum(w.attempts for w in writes)} attempts",
        ]
        lines += [f"fault check FAILED: {f}" for f in self.fault_failures]
        passed = sum(c.passed for c in self.checks)
        lines.append(f"invariant checks passed: {passed}/{len(self.checks)}")
        lines += [f"  {'ok  ' if c.passed else 'FAIL'} {c.name}: {c.detail}" for c in self.checks]
        return "\n".join(lines)


async def inject_faults(
    cluster: Cluster,
    rng: random.Random,
    stop: asyncio.Event,
    failures: list[str],
    order: Sequence[str] = (),
) -> None:
    """A random fault (or the next of `order`, in turn), then calm, until `stop`; each fault
    runs in a thread, whole."""
    chosen = faults.for_cluster(cluster)
    names = list(chosen)
    turns = itertools.cycle(order) if order else None
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(*CALM_SECONDS))
        if stop.is_set():
            return
        name = next(turns) if turns else rng.choice(names)
        try:
            seen = await asyncio.to_thread(chosen[name], cluster, rng)
            log.info("fault: %s", seen)
        except Exception as e:  # noqa: BLE001 - a fault that misbehaves is a finding, not a crash
            failures.append(f"{name}: {type(e).__name__}: {e}")
            failures += await asyncio.to_thread(cluster.heal)


async def soak(
    cluster: Cluster,
    seconds: float,
    *,
    seed: int = 7,
    shoppers: int = 4,
    every_keyed_write: bool = True,
    fault_order: Sequence[str] = (),
) -> Report:
    """Traffic and faults for `seconds`, then the invariants. `every_keyed_write`: no one else
    wrote to this cluster with Idempotency-Keys (see `writes_are_exactly_once`). The requests
    go to every instance of each API in turn; erasures are mixed in. `fault_order`: these
    faults in turn rather than random ones (a short run that must see each)."""
    rng = random.Random(seed)
    tally, ledger, catalogue = Tally(), Ledger(), Catalogue()
    shops = [
        Shop(cluster.command_urls, cluster.query_urls, rng=random.Random(rng.random()),
             tally=tally, ledger=ledger, catalogue=catalogue, admin_token=ADMIN_TOKEN)
        for _ in range(shoppers)
    ]  # fmt: skip
    stop = asyncio.Event()
    failures: list[str] = []
    faults_before = Counter(cluster.faults.by_kind)
    started = time.monotonic()
    traffic = asyncio.gather(
        run_shoppers(shops, stop),
        inject_faults(cluster, random.Random(seed + 1), stop, failures, fault_order),
    )
    try:
        await asyncio.sleep(seconds)
    finally:
        stop.set()
        await traffic
    elapsed = time.monotonic() - started
    failures += await asyncio.to_thread(cluster.heal)
    try:
        unanswered = await resolve(shops[0])
        if unanswered:
            failures.append(f"{len(unanswered)} writes still unanswered after the faults healed")
        injected = Counter(cluster.faults.by_kind) - faults_before
        report = Report(elapsed, dict(injected), failures, tally, ledger, cluster.instances)
        report.checks = await final_checks(
            cluster, ledger, tally, catalogue.people, every_keyed_write=every_keyed_write
        )
    finally:
        for shop in shops:
            await shop.aclose()
    return report


async def final_checks(
    cluster: Cluster,
    ledger: Ledger,
    tally: Tally,
    people: Mapping[int, frozenset[str]],
    *,
    every_keyed_write: bool,
) -> list[Check]:
    """The invariants; `people`: the personal values of the clients not erased."""
    db, redis = cluster.database_url, cluster.redis_url

    async def rebuild() -> None:
        await asyncio.to_thread(cluster.orders, "projections", "rebuild")

    await invariants.wait_caught_up(db, redis)
    internal = {k: n for k, n in tally.outcomes.items() if k[:1] == "5" and not k.startswith("503")}
    return [
        await invariants.feed_is_contiguous(db),
        await asyncio.to_thread(invariants.chain_verifies, cluster.orders),
        await invariants.read_models_match_rebuild(db, redis, rebuild),
        await invariants.stock_is_conserved(db),
        await invariants.writes_are_exactly_once(
            db, ledger.writes, every_keyed_write=every_keyed_write
        ),
        Check("no internal errors", not internal, str(internal or "no 5xx but 503")),
        invariants.reads_own_writes(tally),
        await invariants.erasures_leave_no_trace(db, redis, ledger.erasures, people),
    ]


def run(
    data_dir: Path, *, minutes: float, seed: int, shoppers: int, keep: bool, instances: int = 1
) -> int:
    """What `orders soak` runs: a fresh cluster of `instances` of each service in `data_dir`,
    wiped first (and after, unless `keep`)."""
    for noisy in ("alembic", "httpx"):  # every migration step, every request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cluster = Cluster(data_dir, instances=instances)
    cluster.wipe()
    print(f"starting the platform's services in {data_dir} ...", flush=True)  # noqa: T201
    try:
        cluster.start()
        report = asyncio.run(soak(cluster, minutes * 60, seed=seed, shoppers=shoppers))
    finally:
        cluster.wipe() if not keep else cluster.stop()
    print(report.render())  # noqa: T201
    return 0 if report.passed else 1
