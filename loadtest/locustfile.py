"""The original API's Locust scenario, on the split platform: reads go to the query API (the
Locust host), writes to the command API (`ORDERS_COMMAND_URL`), plus an order-placing journey.

Weights are the original's: list products 10, get product 8, list clients 10, get client 6,
list categories 8, list orders 5, create client 3, create product 2, health check 15; each user
waits 1-3 s between tasks.
"""

from __future__ import annotations

import os
import random
import uuid

import httpx
from locust import HttpUser, between, events, task
from locust.clients import HttpSession

COMMAND_URL = os.environ.get("ORDERS_COMMAND_URL", "http://127.0.0.1:8000")


class Catalogue:
    """Ids seen in list responses, so GET-one asks for things that exist."""

    products: list[int] = []  # noqa: RUF012 - shared by every user on purpose
    clients: list[int] = []  # noqa: RUF012
    categories: list[int] = []  # noqa: RUF012


@events.test_start.add_listener  # type: ignore[untyped-decorator] # locust's hooks are untyped
def _discover(environment: object, **_kwargs: object) -> None:
    host = getattr(environment, "host", None) or "http://127.0.0.1:8001"
    with httpx.Client(base_url=host, timeout=10) as client:
        for name in ("products", "clients", "categories"):
            docs = client.get(f"/{name}", params={"limit": 1000}).json()
            setattr(Catalogue, name, [d["id_key"] for d in docs])


class Shopper(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.writes = HttpSession(
            base_url=COMMAND_URL, request_event=self.environment.events.request, user=self
        )

    @task(10)
    def list_products(self) -> None:
        self.client.get("/products?skip=0&limit=20", name="/products")

    @task(8)
    def get_product(self) -> None:
        if Catalogue.products:
            self.client.get(f"/products/{random.choice(Catalogue.products)}", name="/products/{id}")

    @task(10)
    def list_clients(self) -> None:
        self.client.get("/clients?skip=0&limit=20", name="/clients")

    @task(6)
    def get_client(self) -> None:
        if Catalogue.clients:
            self.client.get(f"/clients/{random.choice(Catalogue.clients)}", name="/clients/{id}")

    @task(8)
    def list_categories(self) -> None:
        self.client.get("/categories", name="/categories")

    @task(5)
    def list_orders(self) -> None:
        self.client.get("/orders?skip=0&limit=20", name="/orders")

    @task(3)
    def create_client(self) -> None:
        n = uuid.uuid4().hex[:12]
        body = {
            "name": "Load",
            "lastname": n,
            "email": f"load-{n}@example.com",
            "telephone": "+34600111222",
        }
        self.writes.post("/clients", json=body, name="POST /clients")

    @task(2)
    def create_product(self) -> None:
        if Catalogue.categories:
            body = {
                "name": f"Load {uuid.uuid4().hex[:8]}",
                "price": 19.99,
                "stock": 1000,
                "category_id": random.choice(Catalogue.categories),
            }
            self.writes.post("/products", json=body, name="POST /products")

    @task(15)
    def health(self) -> None:
        self.client.get("/health_check", name="/health_check")

    @task(2)
    def place_an_order(self) -> None:
        """The journey: a client, a bill, an order, two lines, then it moves to IN_PROGRESS."""
        if not Catalogue.products:
            return
        n = uuid.uuid4().hex[:12]
        client = self.writes.post(
            "/clients",
            json={"name": "Buyer", "email": f"b-{n}@example.com"},
            name="POST /clients (journey)",
        ).json()["id_key"]
        bill = self.writes.post(
            "/bills",
            json={
                "bill_number": f"L-{n}",
                "date": "2026-11-26",
                "total": 100,
                "payment_type": 2,
                "client_id": client,
            },
            name="POST /bills",
        ).json()["id_key"]
        order = self.writes.post(
            "/orders",
            json={"delivery_method": 3, "client_id": client, "bill_id": bill},
            name="POST /orders",
        ).json()["id_key"]
        for product in random.sample(Catalogue.products, k=min(2, len(Catalogue.products))):
            with self.writes.post(
                "/order_details",
                json={"order_id": order, "product_id": product, "quantity": 1},
                name="POST /order_details",
                catch_response=True,
            ) as r:
                if r.status_code in {400, 409}:  # out of stock or deactivated: a correct refusal
                    r.success()
        self.writes.put(f"/orders/{order}", json={"status": 2}, name="PUT /orders/{id}")
