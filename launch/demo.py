"""`orders demo-data`: a realistic shop, written through the command path (the same `handle`
the command API uses: decide, append, claims), so the history it leaves is a real one."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from command_api.commands import change_command, create_command
from command_api.handling import CommandPath, Edge, Outcome, handle
from domain.catalogue import BY_NAME
from domain.errors import DomainError
from eventstore import EventStore
from orders.progress import Progress
from orders.vault import Vault

CATEGORIES = ["Books", "Electronics", "Garden", "Kitchen", "Toys", "Music", "Sports", "Office"]
WORDS = ["Classic", "Smart", "Compact", "Deluxe", "Eco", "Pro", "Mini", "Ultra", "Vintage"]
THINGS = ["Lamp", "Kettle", "Novel", "Speaker", "Chair", "Racket", "Notebook", "Drone", "Mug"]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson"]
CITIES = ["Paris", "Lisbon", "Berlin", "Madrid", "Rome", "Dublin", "Vienna", "Prague"]


@dataclass
class DemoShop:
    path: CommandPath
    rng: random.Random
    progress: Progress
    ids: dict[str, list[int]] = field(default_factory=dict)

    async def write(self, resource: str, body: dict[str, Any]) -> int | None:
        """Create one entity; a refusal (stock ran out, say) is part of a realistic day."""
        entity = BY_NAME[resource]
        now = dt.datetime.now(dt.UTC)
        id_key = await self.path.store.next_id(entity.sequence)
        command = create_command(entity, id_key, entity.create_body.model_validate(body), now)
        edge = Edge(str(uuid.uuid4()), "demo-data", "demo-data", now)
        try:
            await handle(self.path, command, edge, _nothing)
        except DomainError:
            return None
        finally:
            self.progress.advance()
        self.ids.setdefault(resource, []).append(id_key)
        return id_key

    async def change(self, resource: str, id_key: int, body: dict[str, Any]) -> None:
        entity = BY_NAME[resource]
        now = dt.datetime.now(dt.UTC)
        command = change_command(entity, id_key, entity.change_body.model_validate(body))
        edge = Edge(str(uuid.uuid4()), "demo-data", "demo-data", now)
        with contextlib.suppress(DomainError):  # a forbidden transition is part of the day too
            await handle(self.path, command, edge, _nothing)
        self.progress.advance()

    def pick(self, resource: str) -> int:
        return self.rng.choice(self.ids[resource])


def _nothing(_outcome: Outcome) -> bytes:
    return orjson.dumps(None)


async def _many(n: int, make: Callable[[int], Awaitable[Any]], parallel: int = 16) -> None:
    for start in range(0, n, parallel):
        await asyncio.gather(*(make(i) for i in range(start, min(n, start + parallel))))


async def _client(shop: DemoShop, i: int) -> None:
    first, last = shop.rng.choice(FIRST), shop.rng.choice(LAST)
    client = await shop.write("clients", {
        "name": first, "lastname": last, "email": f"{first}.{last}.{i}@example.com".lower(),
        "telephone": f"+3361{shop.rng.randrange(10**6, 10**7)}",
    })  # fmt: skip
    if client is not None:
        await shop.write("addresses", {
            "street": f"{shop.rng.choice(LAST)} Street", "number": str(shop.rng.randint(1, 200)),
            "city": shop.rng.choice(CITIES), "client_id": client,
        })  # fmt: skip


async def _order(shop: DemoShop, i: int) -> None:
    client = shop.pick("clients")
    bill = await shop.write("bills", {
        "bill_number": f"DEMO-{i:07d}-{shop.rng.randrange(10**6)}",
        "date": dt.datetime.now(dt.UTC).date().isoformat(), "total": 500,
        "payment_type": shop.rng.randint(1, 5), "client_id": client,
    })  # fmt: skip
    if bill is None:
        return
    order = await shop.write(
        "orders", {"delivery_method": shop.rng.randint(1, 3), "client_id": client, "bill_id": bill}
    )
    if order is None:
        return
    for _ in range(shop.rng.randint(1, 4)):
        product, quantity = shop.pick("products"), shop.rng.randint(1, 3)
        line = {"order_id": order, "product_id": product, "quantity": quantity}
        await shop.write("order_details", line)
    status = shop.rng.choices([1, 2, 3, 4], weights=[3, 2, 4, 1])[0]
    if status != 1:
        await shop.change("orders", order, {"status": status})


async def load_demo(
    store: EventStore,
    vault: Vault | None,
    *,
    clients: int,
    products: int,
    orders: int,
    seed: int,
) -> dict[str, int]:
    steps = len(CATEGORIES) + products + clients * 2 + orders * 6 + products // 2
    with Progress("demo data", steps, "commands") as progress:
        shop = DemoShop(CommandPath.over(store, vault), random.Random(seed), progress)  # noqa: S311
        tag = shop.rng.randrange(10**6)
        for name in CATEGORIES:
            await shop.write("categories", {"name": f"{name} {tag}"})
        await _many(products, lambda i: shop.write("products", {
            "name": f"{shop.rng.choice(WORDS)} {shop.rng.choice(THINGS)} {i}",
            "price": round(shop.rng.uniform(2, 300), 2), "stock": shop.rng.randint(20, 500),
            "category_id": shop.pick("categories"),
        }))  # fmt: skip
        await _many(clients, lambda i: _client(shop, i))
        await _many(orders, lambda i: _order(shop, i))
        await _many(products // 2, lambda _i: shop.write("reviews", {
            "rating": shop.rng.randint(1, 5), "product_id": shop.pick("products"),
            "comment": shop.rng.choice(["Works as described.", "Would buy it again!",
                                        "Arrived late, but fine.", "Not what I expected."]),
        }))  # fmt: skip
    return {name: len(ids) for name, ids in shop.ids.items()}
