"""Rebuilds started over HTTP: queued for the projector's RQ workers, read back by their job id.

A rebuild replays the whole feed, so it never runs in an API process: the admin endpoint queues
`projector.jobs.rebuild_projections` on the `projections` queue, where any `orders projector`
takes it, and answers at once. What a rebuild is doing is RQ's job state (queued, started,
finished, failed, ...), its outcome the job's result or the last line of its error, and, while
it runs, where its projections' next generations stand (`readmodels.status.read_rebuilds`).

RQ's client is blocking: its calls run in a thread, on a connection of their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.results import Result

from orders.wakeup import QUEUE, REBUILD_JOB
from orders.web import ApiError

KEEP_SECONDS = 7 * 24 * 3600  # a finished or failed rebuild can be read back for a week
# A bound, not an estimate: a rebuild stopped by it resumes from its progress row next time.
JOB_TIMEOUT_SECONDS = 6 * 3600


class RebuildQueueUnavailableError(Exception):
    """Redis, which holds the queue and the jobs, did not answer."""


class RebuildAlreadyQueuedError(ApiError):
    """An unfinished rebuild covers one of the projections: a second would only redo its work
    (or fail on its lock). The answer points at the one to follow."""

    def __init__(self, job_id: str, projections: Sequence[str]) -> None:
        location = f"/admin/projections/rebuilds/{job_id}"
        super().__init__(
            409,
            f"A rebuild of {', '.join(projections)} is already queued or running: {location}",
            "rebuild_in_progress",
            {"Location": location},
        )


@dataclass(frozen=True, slots=True)
class RebuildJob:
    id: str
    status: str
    projections: list[str]
    enqueued_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    result: list[dict[str, Any]] | None  # per projection: generation, position, ... (finished)
    error: str | None  # the exception's last line (failed)


class RebuildQueue:
    def __init__(self, redis_url: str) -> None:
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=2.0, socket_connect_timeout=1.0
        )
        self._queue = Queue(QUEUE, connection=self._redis)

    async def enqueue(self, projections: Sequence[str]) -> str:
        """Queue a rebuild of these projections (refused while another covers one); its id."""
        return await asyncio.to_thread(self._enqueue, list(projections))

    async def read(self, job_id: str) -> RebuildJob | None:
        """A queued rebuild as RQ knows it; None for no such rebuild (or one expired)."""
        return await asyncio.to_thread(self._read, job_id)

    def close(self) -> None:
        self._redis.close()

    def _enqueue(self, projections: list[str]) -> str:
        with _unavailable_as_error():
            running = self._unfinished(projections)
            if running is not None:
                raise RebuildAlreadyQueuedError(running.id, running.args[0])
            job = self._queue.enqueue_call(
                REBUILD_JOB, args=(projections,), job_id=str(uuid.uuid4()),
                timeout=JOB_TIMEOUT_SECONDS, result_ttl=KEEP_SECONDS, failure_ttl=KEEP_SECONDS,
                description=f"rebuild {', '.join(projections)}",
            )  # fmt: skip
        return job.id

    def _unfinished(self, projections: list[str]) -> Job | None:
        ids = self._queue.get_job_ids() + StartedJobRegistry(queue=self._queue).get_job_ids()
        for job in Job.fetch_many(dict.fromkeys(ids), connection=self._redis):
            if (
                job is not None
                and job.func_name == REBUILD_JOB
                and set(job.args[0]) & set(projections)
            ):
                return job
        return None

    def _read(self, job_id: str) -> RebuildJob | None:
        with _unavailable_as_error():
            try:
                job = Job.fetch(job_id, connection=self._redis)
            except NoSuchJobError:
                return None
            if job.func_name != REBUILD_JOB:  # a wake-up's id, say: not something to show here
                return None
            latest = job.latest_result()
            status = job.get_status(refresh=False)
        result = error = None
        if latest is not None and latest.type == Result.Type.SUCCESSFUL:
            result = latest.return_value
        elif latest is not None:
            error = _last_line(latest.exc_string)
        return RebuildJob(
            id=job.id,
            status=str(status.value) if status is not None else "unknown",
            projections=list(job.args[0]),
            enqueued_at=job.enqueued_at,
            started_at=job.started_at,
            ended_at=job.ended_at,
            result=result,
            error=error,
        )


def _last_line(text: str | None) -> str | None:
    """`projector.errors.RebuildError: a rebuild of products is already running`, not the
    traceback (which is in the worker's log)."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    try:
        yield
    except (redis.RedisError, OSError) as e:
        raise RebuildQueueUnavailableError(f"the rebuild queue is unavailable: {e}") from e
