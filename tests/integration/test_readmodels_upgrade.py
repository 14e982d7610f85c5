"""An upgrade from the untagged Redis keys (`rm:<table>:g<n>:…`, `rm:applied:<projection>:g<n>`)
to the hash-tagged ones of `readmodels/keys.py`: the projector reloads Redis from PostgreSQL on
its own, and the README's pattern for deleting the old keys matches them and nothing else."""

from __future__ import annotations

import pytest

from projector import live
from projector.engine import Engine
from readmodels.schema import PROJECTIONS, applied_key
from tests.projection import Scenario, redis_docs
from tests.shop import Shop

pytestmark = pytest.mark.integration

OLD_KEYS = "rm:[^{l]*"  # what the README tells operators to delete after the upgrade


def _untagged(key: str) -> str:
    """The spelling a key had before the hash tags."""
    tag, _, rest = key.removeprefix("rm:{").partition("}:")
    projection, _, generation = tag.rpartition(":")
    if rest == "applied":
        return f"rm:applied:{projection}:{generation}"
    table, _, tail = rest.partition(":")
    return f"rm:{table}:{generation}:{tail}"


async def test_a_redis_of_untagged_keys_is_reloaded_under_the_tagged_ones(
    shop: Shop, engine: Engine
) -> None:
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    redis = engine.redis
    assert redis is not None
    tagged = [key.decode() async for key in redis.scan_iter(match="rm:{*")]
    assert tagged
    for key in tagged:  # what a deployment of before holds
        await redis.rename(key, _untagged(key))
    old = {key.decode() async for key in redis.scan_iter(match="rm:*")} - {
        key.decode() async for key in redis.scan_iter(match="rm:live:*")
    }
    await scenario.round()

    await live.follow(engine)

    assert await redis_docs(redis) == await scenario.expected()
    for projection in PROJECTIONS:
        assert await redis.get(applied_key(projection.name, 1)) is not None
    assert {key.decode() async for key in redis.scan_iter(match=OLD_KEYS)} == old
