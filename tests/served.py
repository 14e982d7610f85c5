"""Apps behind a real uvicorn on a real socket, for tests that must go over HTTP: in the test's
own event loop (`served`), or in a thread with a loop of its own (`LoopThread`) for synchronous
tests such as schemathesis's, which call the server with a blocking client."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

T = TypeVar("T")


@asynccontextmanager
async def served(app: FastAPI, **options: Any) -> AsyncIterator[str]:
    """The app served by uvicorn (its lifespan run by the server) on a free loopback port; the
    base URL. `options` go to `uvicorn.Config` (e.g. `access_log=True`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings: dict[str, Any] = {
        "lifespan": "on",
        # the platform's rule for X-Forwarded-For, not uvicorn's (which trusts 127.0.0.1)
        "proxy_headers": False,
        "server_header": False,
        "log_config": None,
        "access_log": False,
        "ws": "none",
        # longer than httpx's keep-alive expiry (5 s, uvicorn's default too): with both at 5 s, a
        # request sent on an idle connection as the server closes it gets no answer (ReadError),
        # which the 200-buyer crowd met on a busy machine. Servers that outlive their clients'
        # pools never close first.
        "timeout_keep_alive": 60,
    }
    config = uvicorn.Config(app, **{**settings, **options})
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:  # uvicorn offers a flag, not an event, to wait on
                if task.done():
                    task.result()  # a failed startup raises here
                    raise RuntimeError("uvicorn exited before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class LoopThread:
    """An event loop running in a thread of its own: `run` hands it a coroutine and blocks until
    it is done. Servers started on it keep serving while the calling thread blocks elsewhere."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
