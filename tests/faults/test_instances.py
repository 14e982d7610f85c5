"""Two instances of each service (command API, query API, projector) on one PostgreSQL and one
Redis, the traffic spread over them request by request: a token from one command API instance is
honoured by the other query API instance, and the soak, with a whole instance killed and
PostgreSQL and Redis stopped among its faults and erasures among its writes, keeps every
invariant (35 seconds; 3 minutes with ORDERS_FAULTS=full; `orders soak --instances 2` longer)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from loadtest.cluster import Cluster
from loadtest.soak import soak
from tests.faults.conftest import client, rounds, running

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def pair(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    yield from running(request, "instances", instances=2, command_workers=1)


def test_each_service_runs_twice_on_ports_of_its_own(pair: Cluster) -> None:
    kinds = sorted(s.kind for s in pair.services.values())
    assert kinds == sorted(["command-api", "query-api", "projector"] * 2)
    ports = [s.port for s in pair.services.values() if s.port is not None]
    assert len(set(ports)) == 4
    assert all(s.alive() for s in pair.services.values())


async def test_a_token_from_one_command_api_is_honoured_by_the_other_query_api(
    pair: Cluster,
) -> None:
    """Each creation read back at once, with its token, from the other instance: it is there
    (the token makes the read wait for the projection, whichever process applies it)."""
    (first, second), (reads_1, reads_2) = pair.command_urls, pair.query_urls
    seen = 0
    async with client(first) as w1, client(second) as w2, client(reads_1) as r1, \
            client(reads_2) as r2:  # fmt: skip
        category = (await w1.post("/categories", json={"name": f"c{uuid.uuid4().hex}"})).json()
        for n in range(10):
            writes, reads = (w1, r2) if n % 2 == 0 else (w2, r1)
            name = f"p{uuid.uuid4().hex}"
            body = {"name": name, "price": 1.5, "stock": 3, "category_id": category["id_key"]}
            created = await writes.post("/products", json=body)
            assert created.status_code == 201, created.text
            token = created.headers["x-consistency-token"]
            read = await reads.get(
                f"/products/{created.json()['id_key']}", headers={"X-Consistency-Token": token}
            )
            assert read.status_code == 200, read.text
            assert read.json()["name"] == name
            seen += 1
    assert seen == 10


async def test_a_soak_over_two_instances_with_faults_and_erasures_keeps_every_invariant(
    pair: Cluster,
) -> None:
    """An API instance killed, PostgreSQL stopped, Redis stopped, in that order (a projector
    killed too, when time allows), with traffic and erasures over both instances throughout."""
    pair.heal()
    report = await soak(
        pair, rounds(35, 180), seed=5, shoppers=3, every_keyed_write=False,
        fault_order=["kill instance", "postgres outage", "redis outage", "kill projector"],
    )  # fmt: skip
    print(report.render())  # noqa: T201 - the counts, for whoever reads the test's output
    assert report.passed, report.render()
    assert len(report.checks) == 8
    assert "instance_killed" in report.faults, report.faults
    assert any(kind.startswith("postgres_") for kind in report.faults), report.faults
    assert report.tally.own_reads["crossed"] > 0  # tokens honoured by the other instance
    assert any(e.write.acknowledged for e in report.ledger.erasures)
