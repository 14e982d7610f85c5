"""A small client of the command API for tests: creates the entities a scenario needs."""

from __future__ import annotations

from typing import Any

import httpx


class Shop:
    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def create(self, path: str, **body: Any) -> dict[str, Any]:
        response = await self.api.post(path, json=body)
        assert response.status_code == 201, (path, body, response.status_code, response.text)
        document: dict[str, Any] = response.json()
        return document

    async def category(self, name: str | None = None) -> int:
        doc = await self.create("/categories", name=name or f"Category {self._next()}")
        return int(doc["id_key"])

    async def product(
        self, stock: int = 10, price: float = 10.0, category: int | None = None
    ) -> int:
        category = category or await self.category()
        doc = await self.create(
            "/products", name=f"Product {self._next()}", price=price, stock=stock,
            category_id=category,
        )  # fmt: skip
        return int(doc["id_key"])

    async def client(self) -> int:
        n = self._next()
        doc = await self.create(
            "/clients", name="Ada", lastname=f"Lovelace{n}", email=f"ada{n}@example.com",
            telephone="+4412345678",
        )  # fmt: skip
        return int(doc["id_key"])

    async def bill(self, client: int, total: float = 100.0) -> int:
        doc = await self.create(
            "/bills", bill_number=f"B-{self._next()}", date="2026-11-26", total=total,
            payment_type=2, client_id=client,
        )  # fmt: skip
        return int(doc["id_key"])

    async def order(self, client: int | None = None) -> int:
        client = client or await self.client()
        bill = await self.bill(client)
        doc = await self.create("/orders", delivery_method=3, client_id=client, bill_id=bill)
        return int(doc["id_key"])

    async def line(
        self, order: int, product: int, quantity: int = 1, **extra: Any
    ) -> httpx.Response:
        body = {"order_id": order, "product_id": product, "quantity": quantity, **extra}
        return await self.api.post("/order_details", json=body)

    async def current(self, path: str, id_key: int) -> dict[str, Any]:
        """The entity's document as the command API last rendered it: an empty PUT changes
        nothing and answers with the current state."""
        response = await self.api.put(f"{path}/{id_key}", json={})
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    async def stock(self, product: int) -> int:
        return int((await self.current("/products", product))["stock"])
