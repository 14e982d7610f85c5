"""The lean HTTP client of the benchmarks (`loadtest.httpload.Client`), against a real socket:
answers with their bodies, connections kept alive and reused, one more opened per request in
flight, and a server that stops answering is a timeout, not a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from loadtest.httpload import Client


class Server:
    """A minimal HTTP/1.1 server: echoes the request's path and body back in its answer, or
    never answers (`silent`). Counts the connections it accepted."""

    def __init__(self) -> None:
        self.connections = 0
        self.silent = False
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                if self.silent:
                    continue
                path = head.split(b" ")[1]
                answer = path + b"|" + body
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
                await asyncio.sleep(0.05)  # long enough for a second request to need another
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    served = Server()
    listening = await asyncio.start_server(served.serve, "127.0.0.1", 0)
    served.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield served


async def test_answers_come_with_their_bodies_over_connections_kept_alive(server: Server) -> None:
    client = Client(f"http://127.0.0.1:{server.port}")
    try:
        assert await client.request("POST", "/clients", b'{"a":1}') == (201, b'/clients|{"a":1}')
        assert await client.request("GET", "/clients/7") == (201, b"/clients/7|")
        assert server.connections == 1  # the same connection, one request after the other

        both = await asyncio.gather(client.request("GET", "/a"), client.request("GET", "/b"))

        assert both == [(201, b"/a|"), (201, b"/b|")]
        assert server.connections == 2  # two in flight: one more opened
    finally:
        await client.aclose()


async def test_a_server_that_does_not_answer_is_a_timeout(server: Server) -> None:
    client = Client(f"http://127.0.0.1:{server.port}", timeout=0.2)
    server.silent = True
    try:
        with pytest.raises(TimeoutError):
            await client.request("GET", "/clients/1")
        server.silent = False

        assert await client.request("GET", "/clients/2") == (201, b"/clients/2|")
        assert server.connections == 2  # the timed-out connection was not reused
    finally:
        await client.aclose()


def test_load_goes_only_to_this_machine() -> None:
    with pytest.raises(ValueError, match="only ever sent to this machine"):
        Client("http://example.com:8000")
