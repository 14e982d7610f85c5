"""The command API's FastAPI app: the event store, the projector wake-up, the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from command_api.admin import build_admin_router
from command_api.errors import ERRORS
from command_api.handling import CommandPath
from command_api.hotpath import CommandHotPath, HotPathStats, hot_routes
from command_api.ids import IdBlocks
from command_api.routes import add_routes
from orders.metrics import add_metrics
from orders.notices import ErasureNotices
from orders.redis_client import open_redis
from orders.settings import Settings
from orders.store import open_sealed_store
from orders.vault import master_key
from orders.wakeup import Waker
from orders.web import Backends, build_app
from orders.web.auth import build_gates


@dataclass(frozen=True, slots=True)
class Commands:
    """What the routes use, built in the lifespan and kept on `app.state.commands`."""

    path: CommandPath
    ids: IdBlocks
    waker: Waker
    notices: ErasureNotices
    register: Path  # the erasure register, outside the database


def _forget(path: CommandPath, subject: str) -> None:
    """An erasure's notice: nothing of the person stays here."""
    path.states.forget([subject])
    if path.vault is not None:
        path.vault.forget(subject)


def create_app(settings: Settings, database_url: str, redis_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Backends]:
        store, vault = await open_sealed_store(
            database_url, master=master_key(settings), max_size=settings.db_pool_size,
            application_name="command-api",
        )  # fmt: skip
        waker = Waker(redis_url)
        redis = open_redis(redis_url)
        path = CommandPath.over(store, vault)
        notices = ErasureNotices(redis_url)
        notices.listen(lambda subject: _forget(path, subject))
        register = settings.erasure_register or settings.data_dir.resolve() / "erasures"
        app.state.commands = Commands(path, IdBlocks(store), waker, notices, register)
        try:
            yield Backends(db_pool=store.pool, redis=redis)
        finally:
            await notices.close()
            await redis.aclose()
            await waker.close()
            await path.states.close()
            await store.close()

    app = build_app(
        "Orders command API",
        settings,
        lifespan=lifespan,
        errors=ERRORS,
        rate_limit_prefix="orders:ratelimit:command:",
        description="Writes of the order platform: each becomes events in the event store.",
    )
    app.state.gates = build_gates(settings)
    add_routes(app.router)
    app.include_router(build_admin_router())
    # innermost, after the shared layer: request ids, CORS, limits and errors apply to it too
    app.state.hot_path = HotPathStats()
    app.user_middleware.append(
        Middleware(
            CommandHotPath,
            routes=hot_routes(list(app.router.routes)),
            errors=ERRORS,
            stats=app.state.hot_path,
        )
    )
    add_metrics(app, "command-api")  # outermost: times the whole request
    return app
