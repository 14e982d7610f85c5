"""`orders checkpoints sign`: the feed's head signed every N seconds, or sooner once M events were
sequenced since the last checkpoint, each checkpoint appended to the sink.

A program of its own, not a thread of the projector: the signing key lives in this one small
process (the APIs and the projector workers never hold it), and one signer per sink is ensured by
a lock on the sink, however many projector replicas run. It signs the head the projector's
sequencer has reached; it never sequences. Nothing new in the feed, no new checkpoint.

Before each checkpoint it reads the feed's hash at the previous checkpoint's position again: if
that changed (the chain rewritten, or an older backup restored), it says so at once in the log,
and goes on signing: the checkpoints already written keep the evidence for the auditors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from eventstore import EventStore, EventStoreError, FeedHead
from orders.embedded import ensure_servers
from orders.settings import Settings
from orders.signed_checkpoints.signing import Checkpoint, SigningKey
from orders.signed_checkpoints.sink import DirectorySink

log = logging.getLogger("orders.checkpoints")

POLL_SECONDS = 1.0  # how often the head is read (at most; less when N is shorter)


@dataclass(frozen=True, slots=True)
class Cadence:
    seconds: float  # N: a moved head is signed at least this often
    events: int  # M: or as soon as it moved this far


def due(last: Checkpoint | None, head: FeedHead, elapsed: float, cadence: Cadence) -> bool:
    """Whether `head` wants a checkpoint, `elapsed` seconds after the `last` one."""
    if head.position == 0 or head.hash is None:
        return False
    if last is None:
        return True
    if (head.position, head.hash.hex()) == (last.feed_position, last.hash):
        return False
    return head.position - last.feed_position >= cadence.events or elapsed >= cadence.seconds


class Signer:
    def __init__(
        self,
        store: EventStore,
        sink: DirectorySink,
        key: SigningKey,
        cadence: Cadence,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.sink, self.key, self.cadence, self.clock = store, sink, key, cadence, clock
        self.last = sink.latest()  # numbering goes on from the sink, whichever key signed it
        self._last_at = -math.inf  # a head that moved while no signer ran is signed at once

    async def step(self) -> Checkpoint | None:
        """Sign the head if it is due; the checkpoint written, if any."""
        head = await self.store.feed_head()
        now = self.clock()
        if not due(self.last, head, now - self._last_at, self.cadence):
            return None
        assert head.hash is not None
        sequence = 1 if self.last is None else self.last.sequence + 1
        if self.last is not None:
            await self._check_still_holds(self.last)
        checkpoint = self.key.sign(sequence, head.position, head.hash, datetime.now(UTC))
        self.sink.append(checkpoint)
        self.last, self._last_at = checkpoint, now
        return checkpoint

    async def _check_still_holds(self, last: Checkpoint) -> None:
        digest = await self.store.feed_hash(last.feed_position)
        if digest is not None and digest.hex() == last.hash:
            return
        what = "is gone (events lost, or an older backup restored)" if digest is None else (
            "has another hash (the chain was rewritten)"
        )  # fmt: skip
        log.error(
            "feed position %d, signed in checkpoint %d at %s, %s; `orders audit verify"
            " --checkpoints` names the first position that disagrees",
            last.feed_position, last.sequence, last.signed_at, what,
        )  # fmt: skip


def run(settings: Settings, *, once: bool = False) -> int:
    """The signer program: until SIGINT or SIGTERM, or one step with `once`."""
    key = SigningKey.from_setting(settings.checkpoint_key)
    sink = DirectorySink(settings.checkpoints_path.resolve())
    cadence = Cadence(settings.checkpoint_seconds, settings.checkpoint_events)
    database_url = ensure_servers(settings).database_url
    with sink.locked():
        sink.publish_key(key.public)
        log.info(
            "signing the feed head into %s with key %s, every %g s or %d events",
            sink.path, key.public.key_id, cadence.seconds, cadence.events,
        )  # fmt: skip
        return asyncio.run(_sign(database_url, lambda store: Signer(store, sink, key, cadence),
                                 once=once))  # fmt: skip


async def _sign(database_url: str, signer: Callable[[EventStore], Signer], *, once: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with await EventStore.open(
        database_url, max_size=2, application_name="checkpoints"
    ) as store:
        running = signer(store)
        if once:
            checkpoint = await running.step()
            print(checkpoint.model_dump_json() if checkpoint else "nothing new to sign")  # noqa: T201
        else:
            await _loop(running, stop, min(POLL_SECONDS, running.cadence.seconds))
    return 0


async def _loop(signer: Signer, stop: asyncio.Event, every: float) -> None:
    last_error = ""
    while not stop.is_set():
        try:
            await signer.step()
            last_error = ""
        except (EventStoreError, OSError) as e:  # PostgreSQL away, the sink's disk full: retry
            message = f"{type(e).__name__}: {e}"
            if message != last_error:  # once per distinct problem, not once a second
                log.error("no checkpoint signed: %s", message)  # noqa: TRY400 - says it all
                last_error = message
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(every):
                await stop.wait()
