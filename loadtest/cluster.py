"""The platform's services as separate processes that a fault can kill, stop and bring back,
each by its PID: what the fault tests and the soak run against.

`orders up` runs the same three services, but it stops the whole platform as soon as one of them
exits, which is right for a developer's terminal and wrong for a fault test that SIGKILLs the
projector. So `Cluster` plays the part of the deployment's supervisor (compose's restart policy):
it starts the embedded PostgreSQL and Redis of its own data folder and migrates, runs
`orders command-api`, `orders query-api` and `orders projector` as process groups of their own
with the servers' URLs in their environment (so no service ever starts a server itself), and
restarts a service when asked to. Ports, the environment and the `orders` runner come from
`loadtest.platform.Platform`.

With `instances=N` it runs N of each service (N command APIs and N query APIs on ports of their
own, each with its own workers, and N projectors), all on the one PostgreSQL and Redis, as a
deployment behind a load balancer does; the traffic spreads its requests over them. A service
is then named by its kind and number (`command-api-2`); with one instance, by its kind alone.

Faults it injects: SIGKILL of a projector, of one API worker (the server's supervisor replaces
the worker) or of a whole API instance; its `servers` (`loadtest.servers`) stop and start
PostgreSQL and Redis. Every address is 127.0.0.1 or a unix socket in the data folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import psutil

import migrations
from loadtest.platform import Platform, free_port
from loadtest.servers import Counts, Servers
from orders.embedded import Endpoints, start_postgres, start_redis
from orders.vault import MasterKey

SERVICES = ("command-api", "query-api", "projector")
AUDIT_TOKEN = "faults-audit-" + secrets.token_hex(8)
ADMIN_TOKEN = "faults-admin-" + secrets.token_hex(8)
# The limiter on, with a limit the traffic never reaches (each request comes "through" a
# trusted proxy from an address of its own) but a probe from one address does.
RATE_LIMIT_CALLS = 40


@dataclass
class Service:
    name: str
    kind: str  # of SERVICES: the `orders` command it runs
    argv: list[str]
    log: Path
    port: int | None = None  # an API's
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} serves no HTTP"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} is not running"
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Cluster:
    def __init__(
        self,
        data_dir: Path,
        *,
        command_workers: int = 2,
        query_workers: int = 1,
        instances: int = 1,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.instances = instances
        self.platform = Platform(
            self.data_dir,
            workers=command_workers,
            extra_env={
                "ORDERS_QUERY_WORKERS": str(query_workers),
                "ORDERS_AUDIT_TOKEN": AUDIT_TOKEN,
                "ORDERS_ADMIN_TOKEN": ADMIN_TOKEN,
                "ORDERS_MASTER_KEY": MasterKey.generate(),  # the cluster's personal data's
                "RATE_LIMIT_ENABLED": "true",
                "RATE_LIMIT_CALLS": str(RATE_LIMIT_CALLS),
                "RATE_LIMIT_PERIOD": "60",
                "ORDERS_TRUSTED_PROXIES": "127.0.0.1/32",
                "DB_POOL_SIZE": "8",
                **(extra_env or {}),
            },
        )
        for name in [
            k for k in self.platform.env if k.startswith(("DATABASE_", "REDIS_", "POSTGRES_"))
        ]:
            del self.platform.env[name]  # this cluster's own servers, nobody else's
        self.endpoints: Endpoints | None = None
        self.faults = Counts()
        self.servers = Servers(self.data_dir, self.platform.env, self.faults)
        cli = [sys.executable, "-m", "launch.cli"]
        ports = {
            "command-api": [self.platform.command_port],
            "query-api": [self.platform.query_port],
        }
        for more in ports.values():
            more += [free_port() for _ in range(instances - 1)]
        self.services: dict[str, Service] = {}
        for kind in SERVICES:
            for n in range(instances):
                name = kind if instances == 1 else f"{kind}-{n + 1}"
                port = ports[kind][n] if kind in ports else None
                argv = [*cli, kind, *(["--port", str(port)] if port else [])]
                self.services[name] = Service(name, kind, argv, self.data_dir / f"{name}.log", port)

    # --- addresses ----------------------------------------------------------------------

    def of(self, kind: str) -> list[Service]:
        """The instances of one service, in order."""
        return [s for s in self.services.values() if s.kind == kind]

    @property
    def command_urls(self) -> list[str]:
        return [s.url for s in self.of("command-api")]

    @property
    def query_urls(self) -> list[str]:
        return [s.url for s in self.of("query-api")]

    @property
    def command_url(self) -> str:
        return self.platform.command_url

    @property
    def query_url(self) -> str:
        return self.platform.query_url

    @property
    def database_url(self) -> str:
        assert self.endpoints is not None, "start the cluster first"
        return self.endpoints.database_url

    @property
    def redis_url(self) -> str:
        assert self.endpoints is not None, "start the cluster first"
        return self.endpoints.redis_url

    # --- the whole cluster ----------------------------------------------------------------

    def start(self, timeout: float = 120) -> None:
        """Servers, schema, services; healthy. If it fails, whatever it started is stopped."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop(abrupt=True)
            raise

    def _start(self, timeout: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # embedded servers of its own, whatever DATABASE_URL / REDIS_URL say: faults stop them
        self.endpoints = Endpoints(
            database_url=start_postgres(self.servers.pgdata),
            redis_url=start_redis(self.servers.redis_dir),
            embedded_postgres=True,
            embedded_redis=True,
        )
        migrations.upgrade(self.endpoints.database_url)
        self.platform.env |= {
            "DATABASE_URL": self.endpoints.database_url,
            "REDIS_URL": self.endpoints.redis_url,
        }
        for name in self.services:
            self.start_service(name)
        self.wait_healthy(timeout)

    def stop(self, *, abrupt: bool = False) -> None:
        """Stop the services, then the servers, by PID: gently, or (`abrupt`, for a folder
        about to be deleted) SIGKILL and PostgreSQL's immediate shutdown."""
        for service in self.services.values():
            self._end(service, signal.SIGKILL if abrupt else signal.SIGTERM)
        self.servers.stop_redis(kill=abrupt)
        self.servers.stop_postgres(immediate=abrupt)

    def wipe(self) -> None:
        """Stop everything and delete the data folder."""
        self.stop(abrupt=True)
        self.platform.wipe()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def orders(self, *args: str, timeout: float = 600) -> str:
        """Another `orders` command against this cluster's servers (exit status checked)."""
        return self.platform.orders(*args, timeout=timeout)

    def healthy(self) -> bool:
        try:
            return all(
                httpx.get(f"{url}/health_check", timeout=5).status_code == 200  # noqa: PLR2004
                for url in (*self.command_urls, *self.query_urls)
            )
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            for service in self.services.values():
                if not service.alive():
                    raise RuntimeError(f"{service.name} exited: {self.tail(service.name)}")
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not become healthy in time")
            time.sleep(0.3)

    def heal(self) -> list[str]:
        """Both servers up and every service running (a supervisor's job), then healthy. The
        services found exited: faults restart what they kill, so these exited on their own."""
        if self.servers.postgres_pid() is None:
            self.servers.start_postgres()
        if self.servers.redis_pid() is None:
            self.servers.start_redis()
        exited = []
        for name, service in self.services.items():
            if service.popen is not None and service.popen.poll() is not None:
                exited.append(f"{name} exited on its own (status {service.popen.returncode})")
                self.start_service(name)
        self.wait_healthy()
        return exited

    def tail(self, name: str, chars: int = 4000) -> str:
        log = self.services[name].log
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""

    # --- services -------------------------------------------------------------------------

    def start_service(self, name: str) -> Service:
        service = self.services[name]
        with service.log.open("ab") as out:
            service.popen = subprocess.Popen(  # noqa: S603 - our own CLI
                service.argv, env=self.platform.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return service

    def kill_projector(self, name: str | None = None) -> int:
        """SIGKILL a projector's process group (the first by default; no clean-up of any
        kind), start a new one; the killed PID."""
        service = self.services[name or self.of("projector")[0].name]
        pid = service.pid
        self._end(service, signal.SIGKILL)
        self.faults.add("projector_killed")
        self.start_service(service.name)
        return pid

    def kill_instance(self, name: str) -> int:
        """SIGKILL a whole service instance, its supervisor and workers with it (a host or a
        container lost); left down until `start_service` or `heal`. The killed PID."""
        service = self.services[name]
        pid = service.pid
        self._end(service, signal.SIGKILL)
        self.faults.add("instance_killed")
        return pid

    def api_workers(self, name: str = "command-api") -> list[psutil.Process]:
        """The worker processes of an API (its supervisor restarts a dead one)."""
        try:
            children = psutil.Process(self.services[name].pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p for p in children if _is_worker(p)]

    def client_connections(self, name: str = "command-api") -> list[tuple[int, psutil.Process]]:
        """Each worker of an API with the client connections it holds (its requests in flight,
        when every client connection carries one request)."""
        port = self.services[name].port
        counted = []
        for worker in self.api_workers(name):
            with contextlib.suppress(psutil.Error):
                held = [
                    c
                    for c in worker.net_connections(kind="tcp")
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
                ]
                counted.append((len(held), worker))
        return counted

    def busiest_worker(self, name: str = "command-api") -> tuple[psutil.Process, int] | None:
        """The worker holding the most client connections of its API, with that number."""
        counted = self.client_connections(name)
        if not counted:
            return None
        n, worker = max(counted, key=lambda pair: pair[0])
        return worker, n

    def kill_api_worker(
        self, worker: psutil.Process | None = None, name: str = "command-api"
    ) -> int:
        """SIGKILL one worker of an API (the busiest by default); its PID."""
        if worker is None:
            busiest = self.busiest_worker(name)
            if busiest is None:
                raise RuntimeError(f"{name} has no worker to kill")
            worker = busiest[0]
        with contextlib.suppress(psutil.NoSuchProcess):
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        self.faults.add("api_worker_killed")
        return int(worker.pid)

    def wait_workers(self, n: int, name: str = "command-api", timeout: float = 60) -> None:
        """Until the API has `n` workers again, all answering (its supervisor restarts them),
        and old enough that the next kill is a crash, not a crash loop (CRASH_LOOP_SECONDS)."""
        deadline = time.monotonic() + timeout

        def settled() -> bool:
            workers = self.api_workers(name)
            with contextlib.suppress(psutil.Error):
                young = [w for w in workers if time.time() - w.create_time() < CRASH_LOOP_SECONDS]
                return len(workers) >= n and not young and self.healthy()
            return False

        while not settled():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not get back to {n} workers")
            time.sleep(0.2)

    def _end(self, service: Service, signum: int, timeout: float = 15) -> None:
        if service.popen is None or service.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.popen.pid, signum)
        try:
            service.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.popen.pid, signal.SIGKILL)
            service.popen.wait()
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group (its workers)
            os.killpg(service.popen.pid, signal.SIGKILL)


# granian replaces a worker that dies, but exits altogether ("crash loop") when one dies again
# within 5.5 s of being replaced: a fault injected here is a crash, not a crash loop.
CRASH_LOOP_SECONDS = 6.0


def _is_worker(process: psutil.Process) -> bool:
    """The server's workers are its forked children, with its own command line (granian);
    multiprocessing's resource tracker, should one run, is not a worker."""
    try:
        return "resource_tracker" not in " ".join(process.cmdline())
    except psutil.Error:
        return False
