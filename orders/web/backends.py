"""The connections the shared HTTP layer uses: the API's PostgreSQL pool and Redis client.

Each API builds them in its lifespan (Redis with `orders.redis_client.open_redis`) and yields
them as `Backends`; the rate limiter and the health check read them from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from orders.redis_client import AnyRedis


@dataclass(slots=True)
class Backends:
    """What the health check probes and the rate limiter counts in; either may be absent."""

    db_pool: AsyncConnectionPool | None = None
    redis: AnyRedis | None = None  # the API's Redis (the query API's: the read models')
    # where the rate limiter counts, when not in `redis` (the queue's Redis, REDIS_QUEUE_URL)
    limits: AnyRedis | None = None
