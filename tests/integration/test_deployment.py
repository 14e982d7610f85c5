"""compose.yaml, the load balancer's configuration, the Dockerfile, .env.example and the CLI agree
with the code. Docker does not run here, so these parse the files and run every command they
name with --help."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from command_api.app import create_app as command_app
from orders.settings import Settings
from query_api.app import create_app as query_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
APP_SERVICES = ["migrate", "command-api", "query-api", "projector", "checkpoints"]
SCALED = ["command-api", "query-api", "projector"]  # docker compose up --scale NAME=N
APIS = {"command-api": 8000, "query-api": 8001}
SETTING_NAMES = {field.alias for field in Settings.model_fields.values() if field.alias}


def orders(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_service_command_is_a_real_cli_entry_point(service: str) -> None:
    command = COMPOSE["services"][service]["command"]
    assert command[0] == "orders"
    subcommand = [word for word in command[1:] if not word.startswith("-")][:2]
    result = orders(*subcommand[:1], "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: orders" in result.stdout


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_passed_to_a_service_is_a_known_setting(service: str) -> None:
    environment = COMPOSE["services"][service]["environment"]
    assert environment, service
    assert set(environment) <= SETTING_NAMES, set(environment) - SETTING_NAMES


def test_no_secret_is_baked_into_compose() -> None:
    for name, service in COMPOSE["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|TOKEN|SECRET|_KEY$", key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), (name, key, value)


@pytest.mark.parametrize(("service", "port"), APIS.items())
def test_healthchecks_point_at_the_real_health_endpoint(service: str, port: int) -> None:
    spec = COMPOSE["services"][service]
    probe = " ".join(spec["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/health_check" in probe
    assert str(port) in spec["command"]
    assert str(port) in spec["expose"]


@pytest.mark.parametrize("service", SCALED)
def test_a_scaled_service_has_nothing_only_one_container_can_hold(service: str) -> None:
    """Three containers of one service cannot share a host port nor a name: scaling works by
    design only when none is fixed (the load balancer publishes the APIs' ports)."""
    spec = COMPOSE["services"][service]
    assert "ports" not in spec, spec.get("ports")
    assert "container_name" not in spec
    assert "hostname" not in spec


def _haproxy(text: str) -> dict[str, list[list[str]]]:
    """HAProxy's configuration: each section ("backend query-api") with its lines, as words,
    comments left out."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if not line[0].isspace():
            current = sections.setdefault(" ".join(words), [])
        else:
            current.append(words)
    return sections


LB = COMPOSE["services"]["load-balancer"]
HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
HAPROXY = _haproxy(HAPROXY_CFG.read_text())


def _lines(section: str, first: str) -> list[list[str]]:
    return [words for words in HAPROXY[section] if words[0] == first]


def test_the_load_balancer_is_haproxy_configured_by_the_file_in_the_repository() -> None:
    assert LB["image"].startswith("haproxy:")
    mounted = {v.split(":")[0]: v.split(":")[1] for v in LB["volumes"]}
    assert mounted["./deploy/haproxy/haproxy.cfg"] == "/usr/local/etc/haproxy/haproxy.cfg"
    assert HAPROXY_CFG.is_file()
    assert sorted(LB["ports"]) == sorted(f"{port}:{port}" for port in APIS.values())
    assert set(LB["depends_on"]) == set(APIS)


@pytest.mark.parametrize(("service", "port"), APIS.items())
def test_each_api_is_balanced_over_every_instance_found_by_its_service_name(
    service: str, port: int
) -> None:
    (frontend,) = [name for name in HAPROXY if name.startswith("frontend ")
                   and ["bind", f":{port}"] in HAPROXY[name]]  # fmt: skip
    assert _lines(frontend, "default_backend") == [["default_backend", service]]
    backend = f"backend {service}"
    assert _lines(backend, "balance") == [["balance", "roundrobin"]]
    ((_, prefix, slots, address, *options),) = _lines(backend, "server-template")
    assert address == f"{service}:{port}"  # the compose service: Docker's DNS gives every one
    assert address.split(":")[0] in COMPOSE["services"]
    assert int(slots) >= 3
    assert prefix.startswith(service)
    assert "check" in options
    defaults = {words[0]: words[1:] for words in HAPROXY["defaults"]}
    assert defaults["default-server"][:4] == ["init-addr", "none", "resolvers", "docker"]


@pytest.mark.parametrize("service", APIS)
def test_an_instance_leaves_rotation_while_its_health_check_says_critical(service: str) -> None:
    """The check asks /health_check and wants a 200: a 503 (critical: a dependency down) or
    no answer takes the instance out; degraded (load) is a 200 and keeps it in."""
    backend = f"backend {service}"
    assert ["option", "httpchk"] in HAPROXY[backend]
    assert ["http-check", "send", "meth", "GET", "uri", "/health_check"] in HAPROXY[backend]
    assert ["http-check", "expect", "status", "200"] in HAPROXY[backend]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="no haproxy here to check with")
def test_haproxy_itself_accepts_the_configuration() -> None:
    done = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_load_balancer_asks_dockers_dns() -> None:
    assert ["nameserver", "docker-dns", "127.0.0.11:53"] in HAPROXY["resolvers docker"]


def test_the_apis_trust_the_forwarded_address_from_the_load_balancers_network_only() -> None:
    """Else the rate limiter would count every client as the balancer's one address."""
    (subnet,) = [c["subnet"] for c in COMPOSE["networks"]["default"]["ipam"]["config"]]
    trusted = re.fullmatch(
        r"\$\{ORDERS_TRUSTED_PROXIES:-([^}]+)\}",
        COMPOSE["services"]["command-api"]["environment"]["ORDERS_TRUSTED_PROXIES"],
    )
    assert trusted is not None
    assert ipaddress.ip_network(trusted.group(1)) == ipaddress.ip_network(subnet)
    assert ["option", "forwardfor"] in HAPROXY["defaults"]


def test_the_apps_serve_the_health_endpoint_the_healthchecks_probe() -> None:
    for factory in (command_app, query_app):
        app = factory(Settings(), "postgresql://unused", "redis://unused")
        paths = {getattr(route, "path", None) for route in app.routes}
        assert "/health_check" in paths


def test_services_wait_for_their_dependencies() -> None:
    services = COMPOSE["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("command-api", "query-api", "projector", "checkpoints"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["redis"]["condition"] == "service_healthy"
    assert services["projector"]["deploy"]["replicas"] >= 2
    assert re.fullmatch(r"postgres:1[5-9]", services["postgres"]["image"])
    assert services["redis"]["image"].startswith("redis:7")


def test_env_example_documents_every_setting() -> None:
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    assert documented >= SETTING_NAMES, SETTING_NAMES - documented


def test_the_dockerfile_copies_every_package_but_the_development_tools() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in set(packages) - {"loadtest"}:
        assert f"COPY {package} {package}" in dockerfile, package
    assert "COPY loadtest" not in dockerfile


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_platform_never_imports_the_development_tools() -> None:
    done = _python(
        "import sys; from launch import cli, serve, up; import projector.jobs, projector.worker;"
        " cli.build_parser('migrate'); cli.build_parser('--help');"
        " found = sorted(m for m in sys.modules if m.split('.')[0] == 'loadtest');"
        " sys.exit(str(found) if found else 0)"
    )
    assert done.returncode == 0, done.stderr


def test_without_the_development_tools_their_commands_say_so() -> None:
    """A production image leaves `loadtest` out: `orders bench` there is one clear line."""
    done = _python(
        "import sys; sys.modules['loadtest'] = None;"  # as if not installed
        " from launch import cli; sys.exit(cli.main(['bench']))"
    )
    assert done.returncode != 0
    assert "orders bench: not installed here" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        [], ["migrate"], ["up"], ["command-api"], ["query-api"], ["projector"],
        ["projections"], ["projections", "status"], ["projections", "rebuild"],
        ["audit"], ["audit", "verify"], ["checkpoints"], ["checkpoints", "sign"],
        ["checkpoints", "new-key"], ["demo-data"], ["bench"], ["soak"],
    ],
)  # fmt: skip
def test_every_cli_command_has_help(args: list[str]) -> None:
    result = orders(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: orders")


def test_an_unknown_command_is_one_clear_line_and_exit_2() -> None:
    result = orders("no-such-command")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_a_failing_command_is_one_line_and_a_nonzero_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "launch.cli", "audit", "verify"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
             "REDIS_URL": "redis://127.0.0.1:1/0", "LOG_LEVEL": "CRITICAL"},
    )  # fmt: skip
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("orders:")]
    assert len(lines) == 1, result.stderr
