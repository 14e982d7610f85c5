"""Which Redis each part of the platform is given: the read models' (maybe a cluster) and the
queue's (always one Redis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis, RedisCluster

from orders.embedded import Endpoints, ensure_servers
from orders.redis_client import open_read_redis, open_redis
from orders.settings import Settings


def test_a_cluster_url_gets_a_cluster_client_and_a_plain_one_does_not() -> None:
    assert isinstance(open_read_redis("redis+cluster://127.0.0.1:7000"), RedisCluster)
    assert isinstance(open_read_redis("redis://127.0.0.1:7000/0"), Redis)


def test_the_queue_refuses_a_cluster_url() -> None:
    with pytest.raises(ValueError, match="Redis Cluster"):
        open_redis("redis+cluster://127.0.0.1:7000")


def test_a_cluster_without_a_queue_redis_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    settings = Settings(
        DATABASE_URL="postgresql://nowhere/db",
        REDIS_URL="redis+cluster://127.0.0.1:7000",
        ORDERS_DATA_DIR=str(tmp_path),
    )
    with pytest.raises(ValueError, match="REDIS_QUEUE_URL"):
        ensure_servers(settings)
    assert list(tmp_path.iterdir()) == []  # no embedded server was started


def test_the_queue_defaults_to_the_read_models_redis() -> None:
    shared = Endpoints("postgresql://db", "redis://r:6379/0", False, False)
    apart = Endpoints("postgresql://db", "redis+cluster://r:7000", False, False, "redis://q/0")
    assert (shared.queue_url, apart.queue_url) == ("redis://r:6379/0", "redis://q/0")
