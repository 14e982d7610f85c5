"""The connections the shared HTTP layer uses: the API's PostgreSQL pool and Redis client.

Each API builds them in its lifespan and yields them as `Backends`; the rate limiter and the
health check read them from there. Nothing here connects at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


@dataclass(slots=True)
class Backends:
    """What the health check probes and the rate limiter counts in; either may be absent."""

    db_pool: AsyncConnectionPool | None = None
    redis: Redis | None = None


def open_redis(url: str, *, timeout: float = 0.5) -> Redis:
    """A Redis client that gives up quickly: short connect and socket timeouts, no retries.

    Everything the APIs ask of Redis has a fallback (the limiter fails open, reads fall back to
    PostgreSQL), so a fast failure is worth more than a retry.
    """
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
