"""The projector's follower and the command API's wake-up signal, on a real Redis: a wake-up is
one list element however many writes send it, the follower catches up when woken (not only when
its poll is due) and pops the wake-up, and without Redis it goes on polling. The catch-up here
is a counter: what it does is tested with the real one elsewhere (test_projector_worker)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis

from loadtest.platform import free_port
from orders.wakeup import SIGNAL, Waker
from projector import follower
from tests.projection import eventually

pytestmark = pytest.mark.integration


class Counter:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self) -> None:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the database is away")


@contextmanager
def following(redis_url: str, every: float, catch_up: Counter) -> Iterator[threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=follower.follow, args=(stop, redis_url, every, catch_up))
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "the follower did not stop"


def calls(counter: Counter, at_least: int) -> object:
    async def check() -> bool:
        return counter.calls >= at_least

    return check


async def test_a_wake_up_is_one_element_however_many_writes_and_processes_send_it(
    redis_url: str,
) -> None:
    wakers = [Waker(redis_url) for _ in range(4)]  # as many command API processes
    for _ in range(10):
        for waker in wakers:
            await waker.wake()
        await asyncio.sleep(0.01)  # each round on its way: the next write asks for another
    for waker in wakers:
        await waker.close()
    redis = Redis.from_url(redis_url)
    try:
        assert await redis.llen(SIGNAL) == 1
    finally:
        await redis.aclose()


async def test_the_follower_catches_up_when_woken_and_pops_the_wake_up(redis_url: str) -> None:
    counter = Counter()
    redis = Redis.from_url(redis_url)
    try:
        with following(redis_url, every=3600, catch_up=counter):  # no poll due in the test
            await eventually(calls(counter, 1))  # the first catch-up, at start
            for n in (2, 3):
                waker = Waker(redis_url)
                await waker.wake()
                await waker.close()
                await eventually(calls(counter, n))
            await asyncio.sleep(0.3)
            assert counter.calls == 3  # woken twice, and nothing else
            assert await redis.llen(SIGNAL) == 0
    finally:
        await redis.aclose()


async def errors_while_following(
    redis_url: str, counter: Counter, caplog: pytest.LogCaptureFixture
) -> list[str]:
    """The follower's error lines over four catch-ups, polled every 50 ms."""
    with (
        caplog.at_level(logging.ERROR, "projector.follower"),
        following(redis_url, every=0.05, catch_up=counter),
    ):
        await eventually(calls(counter, 4))
    return [r.getMessage() for r in caplog.records if r.name == "projector.follower"]


async def test_without_redis_the_follower_polls_and_reports_it_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    errors = await errors_while_following(nothing_there, Counter(), caplog)
    assert len(errors) == 1, errors
    assert "wake-up signal unavailable" in errors[0]


async def test_a_failing_catch_up_is_logged_once_and_tried_again(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    errors = await errors_while_following(redis_url, Counter(fail=True), caplog)
    assert len(errors) == 1, errors
    assert "the database is away" in errors[0]
