"""A small shop written through the command API, for the query API's tests: one or more of every
resource, a deactivated product, orders in two statuses, and the paths that read it back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.shop import Shop

RESOURCES = (
    "categories", "products", "clients", "addresses", "bills", "orders", "order_details",
    "reviews",
)  # fmt: skip


@dataclass
class World:
    ids: dict[str, list[int]] = field(default_factory=lambda: {r: [] for r in RESOURCES})
    category: list[int] = field(default_factory=list)
    client: list[int] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    inactive_product: int = 0

    def filtered_paths(self) -> list[str]:
        """Every list filter of the REST surface, with values that match and one that does not."""
        c1, c2 = self.client
        k1, k2, _ = self.category
        p1, p2, _ = self.product
        o1, o2 = self.order
        return [
            f"/products?category_id={k1}", f"/products?category_id={k2}",
            "/products?include_inactive=true", "/products?include_inactive=false",
            f"/products?category_id={k1}&include_inactive=true",
            f"/orders?client_id={c1}", f"/orders?client_id={c2}", "/orders?status=1",
            "/orders?status=2", f"/orders?client_id={c1}&status=2",
            f"/orders?client_id={c2}&status=2",
            f"/order_details?order_id={o1}", f"/order_details?product_id={p2}",
            f"/order_details?order_id={o2}&product_id={p1}", f"/addresses?client_id={c1}",
            f"/addresses?client_id={c2}", f"/bills?client_id={c1}", f"/reviews?product_id={p1}",
            f"/reviews?product_id={p2}", "/reviews?product_id=999",
        ]  # fmt: skip

    def paths(self) -> list[str]:
        """Every list (plain, paged, filtered) and every document, plus unknown ids."""
        lists = [f"/{r}" for r in RESOURCES]
        pages = [f"/{r}?skip=1&limit=2" for r in RESOURCES] + ["/categories?skip=50"]
        ones = [f"/{r}/{i}" for r in RESOURCES for i in self.ids[r]]
        missing = [f"/{r}/9999" for r in RESOURCES]
        return lists + pages + self.filtered_paths() + ones + missing


async def build_world(shop: Shop, api: httpx.AsyncClient) -> World:
    world = World()

    async def add(path: str, **body: Any) -> int:
        id_key = int((await shop.create(path, **body))["id_key"])
        world.ids[path.strip("/")].append(id_key)
        return id_key

    world.category = [await add("/categories", name=f"Category {n}") for n in range(3)]
    c1, c2, _ = world.category
    world.product = [
        await add("/products", name="Pen", price=2.5, stock=50, category_id=c1),
        await add("/products", name="Ink", price=7.0, stock=20, category_id=c2),
        await add("/products", name="Quill", price=12.0, stock=5, category_id=c1),
    ]
    world.inactive_product = world.product[2]
    assert (await api.delete(f"/products/{world.inactive_product}")).status_code == 204
    world.client = [await shop.client(), await shop.client()]
    world.ids["clients"] = list(world.client)
    for client, street in (
        (world.client[0], "Main"),
        (world.client[0], "High"),
        (world.client[1], "Low"),
    ):
        await add("/addresses", street=street, number="1", city="Paris", client_id=client)
    for client in (*world.client, world.client[0]):
        await add("/bills", bill_number=f"B-{len(world.ids['bills'])}", date="2026-11-26",
                  total=50.0, payment_type=2, client_id=client)  # fmt: skip
    bills = world.ids["bills"]
    world.order = [
        await add("/orders", delivery_method=3, client_id=world.client[0], bill_id=bills[0]),
        await add("/orders", delivery_method=1, client_id=world.client[1], bill_id=bills[1]),
    ]
    o1, o2 = world.order
    for order, product, quantity in ((o1, world.product[0], 2), (o1, world.product[1], 1),
                                     (o2, world.product[0], 3)):  # fmt: skip
        await add("/order_details", order_id=order, product_id=product, quantity=quantity)
    assert (await api.put(f"/orders/{o2}", json={"status": 2})).status_code == 200
    for product, rating in ((world.product[0], 5), (world.product[0], 4), (world.product[1], 3)):
        await add("/reviews", rating=rating, comment="A fine thing to own", product_id=product)
    return world


async def current(api: httpx.AsyncClient, resource: str, id_key: int) -> bytes:
    """The document's bytes as the command API renders them now (an empty PUT changes nothing)."""
    response = await api.put(f"/{resource}/{id_key}", json={})
    assert response.status_code == 200, response.text
    return response.content
