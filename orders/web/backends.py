"""The connections the shared HTTP layer uses: the API's PostgreSQL pool and Redis client.

Each API builds them in its lifespan (Redis with `orders.redis_client.open_redis`) and yields
them as `Backends`; the rate limiter and the health check read them from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis


@dataclass(slots=True)
class Backends:
    """What the health check probes and the rate limiter counts in; either may be absent."""

    db_pool: AsyncConnectionPool | None = None
    redis: Redis | None = None
