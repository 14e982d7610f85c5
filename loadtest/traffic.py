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

With several instances of each API, a shop sends each request to the next instance in turn
(round robin per request, a retry included, as a load balancer would), and reads some of its
own writes back with their consistency token from another query API instance than the command
API instance that took the write: read-your-writes across instances. With an admin token it
also erases clients now and then (`POST /admin/erasures`), each client's personal values being
ones found nowhere else, so that the invariants can look for them in every table and key.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from loadtest.ledger import Erasure, Ledger, Tally, Write, error_code

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
    people: dict[int, frozenset[str]] = field(default_factory=dict)  # client -> personal values


class RoundRobin:
    """The instances of one API, each request to the next one, as a load balancer spreads them."""

    def __init__(self, urls: str | Sequence[str]) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        for url in self.urls:
            require_local(url)
        self._turns = itertools.count()

    def next(self) -> tuple[int, str]:
        n = next(self._turns) % len(self.urls)
        return n, self.urls[n]


OWN_READ_SHARE = 0.3  # of the creations read back at once with their token
OWN_READ_FIELDS = ("id_key", "name", "bill_number", "client_id", "order_id", "product_id")
# An order line is not read back: its order is known to every shop, and another may delete the
# order, and the line with it, between the write and the read (a 10-minute soak saw one 404).
NOT_READ_BACK = {"/order_details"}


class Shop:
    """One client of both APIs (of every instance of each, in turn), sharing its tally, ledger
    and catalogue with the others."""

    def __init__(
        self,
        command_url: str | Sequence[str],
        query_url: str | Sequence[str],
        *,
        rng: random.Random,
        tally: Tally,
        ledger: Ledger,
        catalogue: Catalogue | None = None,
        retry_for: float = 20.0,
        admin_token: str | None = None,
    ) -> None:
        self.commands, self.queries = RoundRobin(command_url), RoundRobin(query_url)
        self.command_url, self.query_url = self.commands.urls[0], self.queries.urls[0]
        self.admin_token = admin_token
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
            instance, url = self.commands.next()
            headers = {"Idempotency-Key": write.key}
            if write.path.startswith("/admin/") and self.admin_token:
                headers["Authorization"] = f"Bearer {self.admin_token}"
            try:
                response = await self.http.request(
                    write.method,
                    url + write.path,
                    json=write.body,
                    headers=self._headers(**headers),
                )
                self.tally.note(response)
            except httpx.HTTPError as e:
                self.tally.note(None, e)
            if response is not None and _definitive(response):
                write.instance = instance
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
        if write.status != 201 or not write.document:  # noqa: PLR2004
            return None
        id_key = int(write.document["id_key"])
        if write.token and path not in NOT_READ_BACK and self.rng.random() < OWN_READ_SHARE:
            await self.read_own(write, f"{path}/{id_key}")
        return id_key

    async def read_own(self, write: Write, path: str) -> None:
        """Read a creation back at once with its token, from the query API instance after the
        command API instance that took it: it is there, or a 503 says it is not yet (never a
        404 nor another document). Nobody else knows the new id yet, so nobody changed it."""
        instance = (write.instance + 1) % len(self.queries.urls)
        response = await self.read(path, write.token, instance=instance)
        own = self.tally.own_reads
        own["crossed"] += instance != write.instance
        if response is None or response.status_code == 503:  # noqa: PLR2004
            own["refused"] += 1
            return
        document = response.json() if response.status_code == 200 else {}  # noqa: PLR2004
        assert write.document is not None
        if all(
            document.get(f) == write.document[f] for f in OWN_READ_FIELDS if f in write.document
        ):
            own["seen"] += 1
        else:
            own["stale"] += 1
            self.tally.stale.append(f"{path} -> {response.status_code} {response.text[:200]}")

    async def read(
        self, path: str, token: str | None = None, *, instance: int | None = None
    ) -> httpx.Response | None:
        """A read from the next query API instance (or from `instance`)."""
        headers = self._headers(**({"X-Consistency-Token": token} if token else {}))
        if instance is None:
            _, url = self.queries.next()
        else:
            url = self.queries.urls[instance]
        try:
            response = await self.http.get(url + path, headers=headers)
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
                 self.touch_product, self.add_review, self.delete_client, self.erase_client,
                 self.browse],
                weights=[25, 10, 14, 5, 6, 4, 2, 2, 34],
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
        n = uuid.uuid4().hex[:12]  # "nm", "ln", "st", "ct": letters no hex digest spells
        body = {"name": f"nm{n}", "lastname": f"ln{n}", "email": f"soak-{n}@example.com",
                "telephone": f"+{self.rng.randint(10**9, 10**10 - 1)}"}  # fmt: skip
        client = await self.created("/clients", body)
        if client is None:
            return
        address = {"street": f"st{n}", "number": str(self.rng.randint(1, 999)),
                   "city": f"ct{n}", "client_id": client}  # fmt: skip
        if (await self.write("POST", "/addresses", address)).status is None:
            return  # it may still land later: a client never erased, so it may
        # a client joins the catalogue (others may erase it) only once its personal data is in
        self.catalogue.people[client] = frozenset(
            [*body.values(), str(address["street"]), str(address["city"])]
        )
        self.catalogue.clients.append(client)
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

    async def erase_client(self) -> None:
        """An operator erases a client's personal data; its bills (so new orders), orders and
        stock movements stay. Not keyed: an erasure sent again erases again, harmlessly."""
        c = self.catalogue
        if len(c.clients) > 3 and self.admin_token:  # noqa: PLR2004
            client = c.clients.pop(self.rng.randrange(len(c.clients)))
            write = Write(str(uuid.uuid4()), "POST", "/admin/erasures", {"client_id": client})
            self.ledger.erasures.append(Erasure(client, c.people.pop(client, frozenset()), write))
            await self.send(write)

    async def delete_client(self) -> None:
        c = self.catalogue
        if len(c.clients) > 3:  # noqa: PLR2004
            client = c.clients.pop(self.rng.randrange(len(c.clients)))
            c.people.pop(client, None)
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
