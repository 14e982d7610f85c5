"""`orders servers stop` and the embedded servers as an operator meets them: a data folder of
the test's own (its own PostgreSQL and Redis, never the suite's), the command run as a process,
on a machine where XDG_RUNTIME_DIR is unset (servers, containers)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from orders.embedded import redis_socket, start_redis, stop_redis

pytestmark = pytest.mark.integration


def orders(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    dropped = ("ORDERS_", "DATABASE_", "REDIS_", "POSTGRES_", "XDG_RUNTIME_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args],
        env={**env, "ORDERS_DATA_DIR": str(data)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def start_servers(data: Path) -> None:
    """Both servers, started by a process of their own (as `orders up` would)."""
    start = "import orders.embedded as e, orders.settings as s; e.ensure_servers(s.Settings())"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    subprocess.run(
        [sys.executable, "-c", start], env={**env, "ORDERS_DATA_DIR": str(data)},
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def postmaster(data: Path) -> psutil.Process | None:
    pidfile = data / "postgres" / "postmaster.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().split()[0])
    return psutil.Process(pid) if psutil.pid_exists(pid) else None


def redis_answers(data: Path) -> bool:
    return redis_answers_at(f"unix://{redis_socket(data / 'redis')}")


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    start_servers(folder)
    assert redis_answers(folder)
    server = postmaster(folder)
    assert server is not None
    yield folder
    orders(folder, "servers", "stop")
    if server.is_running():  # the test failed with PostgreSQL left running: not our business
        server.terminate()  # to leave it behind, and it is ours (started above)


def test_servers_stop_stops_a_redis_whose_pid_file_is_gone_and_then_postgresql(
    data: Path,
) -> None:
    (data / "redis" / "redis.pid").unlink()
    server = postmaster(data)
    assert server is not None

    done = orders(data, "servers", "stop")

    assert done.returncode == 0, done.stderr
    assert not redis_answers(data)
    server.wait(30)  # PostgreSQL is stopped too
    assert "Traceback" not in done.stderr


def test_servers_stop_takes_a_redis_gone_with_its_pid_file_as_stopped(data: Path) -> None:
    redis.Redis(unix_socket_path=str(redis_socket(data / "redis"))).shutdown(nosave=True)
    assert not (data / "redis" / "redis.pid").exists()
    server = postmaster(data)
    assert server is not None

    done = orders(data, "servers", "stop")

    assert done.returncode == 0, done.stderr
    server.wait(30)
    again = orders(data, "servers", "stop")  # nothing left to stop: still fine
    assert again.returncode == 0, again.stderr


def test_an_orders_command_prints_no_library_warning(tmp_path: Path) -> None:
    done = orders(tmp_path / "empty", "servers", "stop")
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


def test_a_data_folder_too_deep_for_a_unix_socket_still_gets_its_redis(tmp_path: Path) -> None:
    folder = tmp_path / ("deep-" * 20) / "redis"  # its redis.sock would pass sun_path's 108 bytes
    assert len(str(folder / "redis.sock")) > 108

    url = start_redis(folder)
    try:
        assert redis.Redis.from_url(url).ping()
        assert start_redis(folder) == url  # the same folder finds its server again
        assert redis_socket(folder) != redis_socket(tmp_path / "other")
    finally:
        stop_redis(folder)
    assert not redis_answers_at(url)


def redis_answers_at(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except (redis.RedisError, OSError):
        return False
