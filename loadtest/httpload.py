"""Load generators that leave the machine to the server: wrk for fixed GETs (C, one thread)
when it is installed, and a lean asyncio HTTP/1.1 client (keep-alive, raw streams, no parsing
beyond what is needed) for requests whose bodies change, and for fixed GETs without wrk (in
several processes: `loadtest.generators`). Every loop is bounded in time and targets this
machine only."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from loadtest.stats import Row, percentile_ms

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


HAMMER = "httpload, 1 process"  # `hammer`'s label: bodies that change need the asyncio client


@dataclass(frozen=True, slots=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers and socket errors


def row(
    name: str, load: Load, base: tuple[str, Load] | None = None, generator: str = HAMMER
) -> Row:
    """A benchmark row of a load, beside its baseline's (name, load) from the same run."""
    errors = f" ({load.errors} errors)" if load.errors else ""
    base_name, base_load = base or ("", None)
    return Row(
        name + errors, load.rps, "req/s", load.p50_ms, load.p99_ms, base_name,
        base_load.rps if base_load else None, generator,
    )  # fmt: skip


def local(url: str) -> None:
    if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"load is only ever sent to this machine, not {url}")


def wrk(url: str, connections: int, seconds: float) -> Load:
    local(url)
    binary = shutil.which("wrk") or "wrk"
    out = subprocess.run(  # noqa: S603
        [binary, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
         "--timeout", "5s", url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    percentile = r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m))\s*$"
    latency = dict(re.findall(percentile, out, re.MULTILINE))

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * _UNITS[unit]

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Load(rps, ms(latency["50"]), ms(latency["99"]), requests, errors)


Request = Callable[[int, int], tuple[str, str, bytes]]  # (connection, n) -> method, path, body
TIMEOUT_SECONDS = 5.0  # as wrk's --timeout: a request unanswered this long is an error


@dataclass
class Samples:
    """What one run of `hammer` saw, before it is summed up (runs in several processes add up)."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def load(self) -> Load:
        return Load(
            len(self.latencies) / self.seconds if self.seconds else 0.0,
            percentile_ms(self.latencies, 50),
            percentile_ms(self.latencies, 99),
            len(self.latencies),
            self.errors,
        )


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    status, _ = await _answer(reader)
    return status


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """A response's status and body (by its Content-Length: what our APIs send)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return int(head[9:12]), body


def _raw(method: str, host: str, path: str, body: bytes) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class Client:
    """Requests whose answers are needed (a created entity's id), as lean as `hammer`'s: raw
    keep-alive connections to one server, reused, opened as more requests are in flight.
    A client process that spent a millisecond of CPU per request (httpx) took most of a core
    at a few hundred requests a second: on a small machine it slowed the servers it measured,
    and its own event loop added to every latency it timed."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        local(base_url)
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._timeout = timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """The status and body; a connection that fails or times out is closed, and raises."""
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), self._timeout
            )
        try:
            writer.write(_raw(method, self._host, path, body))
            answer = await asyncio.wait_for(_answer(reader), self._timeout)
        except BaseException:
            writer.close()
            raise
        self._idle.append((reader, writer))
        return answer

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def hammer(base_url: str, connections: int, seconds: float, request: Request) -> Load:
    """`connections` keep-alive connections, each sending `request(c, n)` back to back."""
    return (await sample(base_url, connections, time.perf_counter() + seconds, request)).load()


async def sample(base_url: str, connections: int, deadline: float, request: Request) -> Samples:
    """`hammer`'s samples, until `deadline` (on the perf_counter clock). A connection that
    fails or times out counts an error and is opened again."""
    local(base_url)
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    seen = Samples()

    async def connection(c: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), TIMEOUT_SECONDS
                )
            except (OSError, TimeoutError):
                seen.errors += 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.perf_counter() < deadline:
                    method, path, body = request(c, n)
                    raw = _raw(method, host, path, body)
                    start = time.perf_counter()
                    status = await asyncio.wait_for(_one(reader, writer, raw), TIMEOUT_SECONDS)
                    seen.latencies.append(time.perf_counter() - start)
                    seen.errors += not 200 <= status < 300  # noqa: PLR2004
                    n += 1
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                seen.errors += 1
            finally:
                writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(c) for c in range(connections)))
    seen.seconds = time.perf_counter() - start
    return seen
