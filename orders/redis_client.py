"""Redis clients as every service opens them: quick to give up, never retrying on their own.

Everything the platform asks of Redis has a fallback or a later chance (the rate limiter fails
open, reads fall back to PostgreSQL, the projector catches Redis up on a later run), so a fast
failure is worth more than a retry that holds a request or a batch.

The read models' Redis (`REDIS_URL`) may be a Redis Cluster: a URL whose scheme is
`redis+cluster://` (or `rediss+cluster://`) names one of its nodes, and gets a cluster client
that finds the others. The queue's Redis (`REDIS_QUEUE_URL`: RQ, the wake-up flag, erasure
notices, the rate limiter) is always one Redis: RQ and pub/sub do not run on a cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")

# What a Redis that is down or unreachable raises: a cluster client that reaches no node to learn
# the slots from raises RedisClusterException, which is not a RedisError.
REDIS_FAILURES = (RedisError, RedisClusterException, OSError)

# either client: the read side's code runs on both (what differs is in `is_cluster` branches)
AnyRedis = Redis | RedisCluster


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0] in CLUSTER_SCHEMES


def open_redis(url: str, *, timeout: float = 0.5, connect_timeout: float | None = None) -> Redis:
    """A client of one Redis whose commands give up after `timeout` seconds (connecting:
    `connect_timeout`, by default the same)."""
    if is_cluster_url(url):
        raise ValueError(
            f"{url.partition('://')[0]}:// names a Redis Cluster; this needs one Redis"
        )
    return Redis.from_url(url, **_options(timeout, connect_timeout))


def open_read_redis(
    url: str, *, timeout: float = 0.5, connect_timeout: float | None = None
) -> AnyRedis:
    """A client of the read models' Redis: a cluster client for a `redis+cluster://` URL, else
    the same as `open_redis`."""
    if not is_cluster_url(url):
        return open_redis(url, timeout=timeout, connect_timeout=connect_timeout)
    scheme, _, rest = url.partition("://")
    plain = f"{scheme.removesuffix('+cluster')}://{rest}"
    return RedisCluster.from_url(plain, **_options(timeout, connect_timeout))


def _options(timeout: float, connect_timeout: float | None) -> dict[str, Any]:
    return {
        "socket_connect_timeout": timeout if connect_timeout is None else connect_timeout,
        "socket_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }


def queue_evalsha(pipe: Any, sha: str, keys: Sequence[Any], args: Sequence[Any]) -> None:
    """Queue a script run by its sha in a pipeline of either client. redis-py's cluster pipeline
    blocks its `evalsha` method (it cannot load scripts for you), not the command itself, which
    it routes by the keys like any other; the caller loads the script when a node lacks it."""
    pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args)
