"""Redis clients as every service opens them: quick to give up, never retrying on their own.

Everything the platform asks of Redis has a fallback or a later chance (the rate limiter fails
open, reads fall back to PostgreSQL, the projector catches Redis up on a later run), so a fast
failure is worth more than a retry that holds a request or a batch.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def open_redis(url: str, *, timeout: float = 0.5, connect_timeout: float | None = None) -> Redis:
    """A client whose commands give up after `timeout` seconds (connecting: `connect_timeout`,
    by default the same)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout if connect_timeout is None else connect_timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
