"""Mixed traffic for the fault tests and the soak: the original API's flows (clients with
addresses and bills, categories and products with stock, orders with lines, status changes,
line edits, deletes, reads), every write under an Idempotency-Key of its own.

A write that fails in transit or answers 5xx is sent again with the same key and body until it
gets a definitive answer (or its time runs out: then it stays unresolved and `resolve` tries
again later). Every definitive answer is kept in the `loadtest.ledger.Ledger`, which the
invariants hold against the event store.

Each request goes "through" the trusted proxy from an address of its own (X-Forwarded-For), so
the rate limiter counts every request in Redis without ever refusing the traffic. Every request
targets 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from loadtest.ledger import Ledger, Tally, Write, error_code

RETRY_PAUSE_SECONDS = 0.25


def require_local(url: str) -> None:
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"traffic is only ever sent to 127.0.0.1, not {url}")


def _definitive(response: httpx.Response) -> bool:
    """An answer the client may act on: anything but 5xx and 429 (a retry may change those)."""
    return response.status_code < 500 and response.status_code != 429  # noqa: PLR2004


@dataclass
class Catalogue:
    """Ids the traffic made and knows about (from acknowledged writes)."""

    categories: list[int] = field(default_factory=list)
    products: list[int] = field(default_factory=list)
    clients: list[int] = field(default_factory=list)
    bills: list[tuple[int, int]] = field(default_factory=list)  # (bill, client) not used yet
    orders: list[int] = field(default_factory=list)  # open ones, as far as we know
    lines: list[tuple[int, int]] = field(default_factory=list)  # (line, order)
    tokens: list[str] = field(default_factory=list)  # recent consistency tokens


class Shop:
    """One client of both APIs, sharing its tally, ledger and catalogue with the others."""

    def __init__(
        self,
        command_url: str,
        query_url: str,
        *,
        rng: random.Random,
        tally: Tally,
        ledger: Ledger,
        catalogue: Catalogue | None = None,
        retry_for: float = 20.0,
    ) -> None:
        require_local(command_url)
        require_local(query_url)
        self.command_url, self.query_url = command_url, query_url
        self.rng, self.tally, self.ledger = rng, tally, ledger
        self.catalogue = catalogue or Catalogue()
        self.retry_for = retry_for
        # one connection per request: a killed worker takes only its own requests with it
        limits = httpx.Limits(max_keepalive_connections=0)
        self.http = httpx.AsyncClient(timeout=15.0, limits=limits)

    async def aclose(self) -> None:
        await self.http.aclose()

    def _headers(self, **extra: str) -> dict[str, str]:
        a, b, c = (self.rng.randint(1, 254) for _ in range(3))
        return {"X-Forwarded-For": f"10.{a}.{b}.{c}", **extra}

    # --- requests ---------------------------------------------------------------------------

    async def send(self, write: Write) -> Write:
        """Send (again) until a definitive answer or `retry_for` seconds; the same key each time."""
        deadline = time.monotonic() + self.retry_for
        while True:
            write.attempts += 1
            response = None
            try:
                response = await self.http.request(
                    write.method, self.command_url + write.path, json=write.body,
                    headers=self._headers(**{"Idempotency-Key": write.key}),
                )  # fmt: skip
                self.tally.note(response)
            except httpx.HTTPError as e:
                self.tally.note(None, e)
            if response is not None and _definitive(response):
                self._settle(write, response)
                return write
            if time.monotonic() > deadline:
                return write
            await asyncio.sleep(RETRY_PAUSE_SECONDS)

    def _settle(self, write: Write, response: httpx.Response) -> None:
        write.status = response.status_code
        write.code = error_code(response)
        write.token = response.headers.get("x-consistency-token")
        if response.status_code in (200, 201):
            write.document = response.json()
        if write.token:
            self.catalogue.tokens = [*self.catalogue.tokens[-20:], write.token]

    async def write(self, method: str, path: str, body: dict[str, Any] | None = None) -> Write:
        write = Write(str(uuid.uuid4()), method, path, body)
        self.ledger.writes.append(write)
        return await self.send(write)

    async def created(self, path: str, body: dict[str, Any]) -> int | None:
        write = await self.write("POST", path, body)
        return int(write.document["id_key"]) if write.status == 201 and write.document else None  # noqa: PLR2004

    async def read(self, path: str, token: str | None = None) -> httpx.Response | None:
        headers = self._headers(**({"X-Consistency-Token": token} if token else {}))
        try:
            response = await self.http.get(self.query_url + path, headers=headers)
        except httpx.HTTPError as e:
            self.tally.note(None, e)
            return None
        self.tally.note(response)
        return response

    # --- the original's flows ---------------------------------------------------------------

    async def step(self) -> None:
        """One flow, chosen with the original's mix in mind: mostly reads and orders."""
        c = self.catalogue
        if len(c.categories) < 2:  # noqa: PLR2004
            await self.add_category()
        elif len(c.products) < 4 or self.rng.random() < 0.08:  # noqa: PLR2004
            await self.add_product()
        elif len(c.clients) < 3 or self.rng.random() < 0.1:  # noqa: PLR2004
            await self.add_customer()
        else:
            flow = self.rng.choices(
                [self.place_order, self.edit_line, self.change_status, self.delete_order,
                 self.touch_product, self.add_review, self.delete_client, self.browse],
                weights=[25, 10, 14, 5, 6, 4, 2, 34],
            )[0]  # fmt: skip
            await flow()

    async def add_category(self) -> None:
        name = f"Cat {uuid.uuid4().hex[:10]}"
        if (id_key := await self.created("/categories", {"name": name})) is not None:
            self.catalogue.categories.append(id_key)

    async def add_product(self) -> None:
        body = {
            "name": f"Product {uuid.uuid4().hex[:8]}",
            "price": round(self.rng.uniform(1, 500), 2),
            "stock": self.rng.randint(5, 60),
            "category_id": self.rng.choice(self.catalogue.categories),
        }
        if (id_key := await self.created("/products", body)) is not None:
            self.catalogue.products.append(id_key)

    async def add_customer(self) -> None:
        n = uuid.uuid4().hex[:12]
        body = {"name": "Soak", "lastname": n, "email": f"soak-{n}@example.com",
                "telephone": f"+{self.rng.randint(10**9, 10**10 - 1)}"}  # fmt: skip
        client = await self.created("/clients", body)
        if client is None:
            return
        self.catalogue.clients.append(client)
        await self.created("/addresses", {"street": "Main", "number": "1", "city": "Town",
                                          "client_id": client})  # fmt: skip
        await self.add_bill(client)

    async def add_bill(self, client: int) -> None:
        body = {
            "bill_number": f"B-{uuid.uuid4().hex[:12]}", "date": "2026-11-26", "total": 10.0,
            "payment_type": self.rng.randint(1, 5), "client_id": client,
        }  # fmt: skip
        if (bill := await self.created("/bills", body)) is not None:
            self.catalogue.bills.append((bill, client))

    async def place_order(self) -> None:
        c = self.catalogue
        if not c.bills:
            await self.add_bill(self.rng.choice(c.clients))
            return
        bill, client = c.bills.pop(self.rng.randrange(len(c.bills)))
        body = {"delivery_method": self.rng.randint(1, 3), "client_id": client, "bill_id": bill}
        order = await self.created("/orders", body)
        if order is None:
            return
        c.orders.append(order)
        for _ in range(self.rng.randint(1, 3)):
            line = await self.created("/order_details", {
                "order_id": order, "product_id": self.rng.choice(c.products),
                "quantity": self.rng.randint(1, 4),
            })  # fmt: skip
            if line is not None:
                c.lines.append((line, order))

    async def edit_line(self) -> None:
        c = self.catalogue
        if not c.lines:
            return
        line, _order = self.rng.choice(c.lines)
        roll = self.rng.random()
        if roll < 0.5:  # noqa: PLR2004
            await self.write("PUT", f"/order_details/{line}", {"quantity": self.rng.randint(1, 5)})
        elif roll < 0.75:  # noqa: PLR2004
            await self.write(
                "PUT", f"/order_details/{line}", {"product_id": self.rng.choice(c.products)}
            )
        else:
            write = await self.write("DELETE", f"/order_details/{line}")
            if write.status in (204, 404):
                c.lines = [pair for pair in c.lines if pair[0] != line]

    async def change_status(self) -> None:
        c = self.catalogue
        if not c.orders:
            return
        order = self.rng.choice(c.orders)
        status = self.rng.choices([2, 3, 4], weights=[3, 4, 2])[0]
        write = await self.write("PUT", f"/orders/{order}", {"status": status})
        if (write.status == 200 and status in (3, 4)) or write.code == "invalid_status_transition":  # noqa: PLR2004
            self._forget_order(order)

    async def delete_order(self) -> None:
        c = self.catalogue
        if c.orders:
            order = self.rng.choice(c.orders)
            write = await self.write("DELETE", f"/orders/{order}")
            if write.status in (204, 404, 409):
                self._forget_order(order)

    def _forget_order(self, order: int) -> None:
        c = self.catalogue
        c.orders = [o for o in c.orders if o != order]
        c.lines = [pair for pair in c.lines if pair[1] != order]

    async def touch_product(self) -> None:
        product = self.rng.choice(self.catalogue.products)
        roll = self.rng.random()
        if roll < 0.5:  # noqa: PLR2004
            await self.write("PUT", f"/products/{product}", {"stock": self.rng.randint(0, 80)})
        elif roll < 0.8:  # noqa: PLR2004
            price = round(self.rng.uniform(1, 500), 2)
            await self.write("PUT", f"/products/{product}", {"price": price})
        elif roll < 0.9:  # noqa: PLR2004
            await self.write("DELETE", f"/products/{product}")
        else:
            await self.write("PUT", f"/products/{product}", {"active": True})

    async def add_review(self) -> None:
        body = {"rating": self.rng.choice([1.0, 3.5, 5.0]), "comment": "Soaked and still fine",
                "product_id": self.rng.choice(self.catalogue.products)}  # fmt: skip
        await self.created("/reviews", body)

    async def delete_client(self) -> None:
        c = self.catalogue
        if len(c.clients) > 3:  # noqa: PLR2004
            client = c.clients.pop(self.rng.randrange(len(c.clients)))
            c.bills = [(b, owner) for b, owner in c.bills if owner != client]
            await self.write("DELETE", f"/clients/{client}")

    async def browse(self) -> None:
        c = self.catalogue
        paths = [
            "/products?skip=0&limit=20",
            f"/products/{self.rng.choice(c.products)}",
            "/clients?skip=0&limit=20",
            f"/clients/{self.rng.choice(c.clients)}",
            "/categories",
            "/orders?skip=0&limit=20",
            f"/orders?client_id={self.rng.choice(c.clients)}",
        ]
        if c.orders:
            paths.append(f"/order_details?order_id={self.rng.choice(c.orders)}")
        for _ in range(3):  # the original's traffic is mostly reads
            token = self.rng.choice(c.tokens) if c.tokens and self.rng.random() < 0.2 else None  # noqa: PLR2004
            await self.read(self.rng.choice(paths), token)


async def run_shoppers(shops: list[Shop], stop: asyncio.Event) -> None:
    """Each shop runs flows until `stop` is set (a flow in progress finishes first)."""

    async def run(shop: Shop) -> None:
        while not stop.is_set():
            await shop.step()

    await asyncio.gather(*(run(shop) for shop in shops))


async def resolve(shop: Shop, seconds: float = 120.0) -> list[Write]:
    """Send every unresolved write again (same key) until answered; those still unanswered."""
    deadline = time.monotonic() + seconds
    for write in shop.ledger.unresolved():
        shop.retry_for = max(deadline - time.monotonic(), 1.0)
        await shop.send(write)
    return shop.ledger.unresolved()
