"""A `send` that watches the response go by: whether it has started (after which a middleware
can no longer answer with an error of its own) and its status (what metrics label)."""

from __future__ import annotations

from starlette.types import Message, Send


class WatchedSend:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.status = 500  # what a request counts as when no response ever starts

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
        await self._send(message)
