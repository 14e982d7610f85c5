"""The original API's rate limit: `RATE_LIMIT_CALLS` requests per `RATE_LIMIT_PERIOD` seconds per
client address, counted in Redis so that every worker and both APIs share one count.

A fixed window per client: one Lua script increments the client's counter, starts its expiry on
the first hit (and repairs a counter left without one), and returns the count and the seconds
left, atomically, in one round trip.

It fails open: when Redis errors or is slow, requests go through unlimited, and the limiter
stops asking Redis for a short pause so that a dead Redis costs no time per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import NoScriptError, RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.redis_client import AnyRedis
from orders.web.clientip import TrustedProxies, client_ip
from orders.web.docs import ASSETS
from orders.web.errors import error_response

log = logging.getLogger("orders.web.ratelimit")

_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
_COUNT_SHA = hashlib.sha1(_COUNT.encode(), usedforsecurity=False).hexdigest()

EXEMPT_PATHS = frozenset(
    {"/health_check", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
EXEMPT_PREFIX = f"{ASSETS}/"


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        reset_at = int(time.time()) + self.reset_after
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(reset_at).encode()),
        ]


class RateLimiter:
    """Counts hits per key in Redis. `hit` returns None when Redis cannot answer (fail open)."""

    def __init__(
        self,
        calls: int,
        period: int,
        *,
        prefix: str = "orders:ratelimit:",
        timeout: float = 0.5,
        pause_after_failure: float = 1.0,
    ) -> None:
        self.calls = calls
        self.period = period
        self.prefix = prefix
        self._timeout = timeout
        self._pause = pause_after_failure
        self._paused_until = 0.0
        self._failing = False

    async def hit(self, redis: AnyRedis | None, key: str) -> Verdict | None:
        if redis is None or time.monotonic() < self._paused_until:
            return None
        try:
            async with asyncio.timeout(self._timeout):
                count, ttl = await self._count(redis, self.prefix + key)
        except (RedisError, OSError, TimeoutError) as e:
            self._paused_until = time.monotonic() + self._pause
            if not self._failing:
                log.warning("rate limiter: Redis unavailable (%s); not limiting for now", e)
            self._failing = True
            return None
        if self._failing:
            log.info("rate limiter: Redis answers again; limiting")
            self._failing = False
        return Verdict(
            allowed=count <= self.calls,
            limit=self.calls,
            remaining=max(0, self.calls - count),
            reset_after=max(1, ttl),
        )

    async def _count(self, redis: AnyRedis, key: str) -> tuple[int, int]:
        try:
            result = await redis.evalsha(_COUNT_SHA, 1, key, self.period)
        except NoScriptError:  # first use on this server, or after SCRIPT FLUSH / a restart
            result = await redis.eval(_COUNT, 1, key, self.period)
        count, ttl = result
        return int(count), int(ttl)


class RateLimitMiddleware:
    """Pure ASGI: 429 in the original's body and headers once a client is over its limit;
    `X-RateLimit-*` headers on the responses it lets through. Docs and health are exempt."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        redis: Callable[[], AnyRedis | None],
        proxies: TrustedProxies,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.redis = redis
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        verdict = await self.limiter.hit(self.redis(), client_ip(scope, self.proxies))
        if verdict is None:
            await self.app(scope, receive, send)
            return
        if not verdict.allowed:
            await self._refuse(verdict)(scope, receive, send)
            return
        extra = verdict.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refuse(self, verdict: Verdict) -> ASGIApp:
        period = self.limiter.period
        response = error_response(
            429,
            f"Rate limit exceeded. Maximum {verdict.limit} requests per {period} seconds.",
            "rate_limited",
            headers={"Retry-After": str(period)},
            retry_after=period,
        )
        response.raw_headers.extend(verdict.headers())
        return response


def _exempt(path: str) -> bool:
    return (
        path in EXEMPT_PATHS
        or path.rstrip("/") in EXEMPT_PATHS
        or path.startswith(EXEMPT_PREFIX)  # the docs pages' assets: one page, several files
    )
