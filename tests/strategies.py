"""Hypothesis strategies for the domain, and the in-memory world they are run against.

`World` is a real implementation of what the command API and the event store do with the
domain (primary stream or locator, reads, decide, claims, append): a test double of the
store, not a mock of the domain.
"""

import datetime as dt
import types
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import IntEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from domain import bill, catalogue, category, client, codec, order, product, review
from domain.catalogue import DECIDERS, claim_changes, conflict_for
from domain.claims import Claim
from domain.decider import Decider, fold
from domain.enums import DeliveryMethod, PaymentType, Status
from domain.errors import DomainError
from domain.events import Event, StreamEvents
from domain.patch import UNSET
from domain.streams import parse_stream_id

# Sequences of commands are slow-ish to shrink; a deadline would only make them flaky.
PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(max_examples=60, deadline=None)

T0 = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
CATEGORY_ID = 1
CLIENT_ID = 1


def decide_all(decider: Decider[Any, Any, Any], given: Iterable[Any], when: Any) -> list[Any]:
    """Given these events, when this command: the events it decides."""
    return decider.decide(fold(decider, given), when)


# --- the in-memory world ------------------------------------------------------------------


@dataclass
class World:
    streams: dict[str, list[Event]] = field(default_factory=dict)
    claims: dict[Claim, str] = field(default_factory=dict)
    # each stream's state as evolved event by event while appending, to compare with replays
    evolved: dict[str, Any] = field(default_factory=dict)

    def state(self, stream: str) -> Any:
        return fold(DECIDERS[parse_stream_id(stream)[0]], self.streams.get(stream, []))

    def handle(self, command: Any) -> StreamEvents:
        target = catalogue.primary(command)
        stream = self.claims.get(target) if isinstance(target, Claim) else target
        state = None if stream is None else self.state(stream)
        # like the command API: the primary stream is never among the others
        others = {s: self.state(s) for s in catalogue.reads(command, state, stream)}
        events = catalogue.decide(command, state, others, stream)
        self.append(events)
        return events

    def given(self, *commands: Any) -> "World":
        for command in commands:
            self.handle(command)
        return self

    def append(self, events_by_stream: StreamEvents) -> None:
        claims = dict(self.claims)
        changes = claim_changes(events_by_stream)
        for claim, owner in changes.released:
            if claims.get(claim) == owner:
                del claims[claim]
        for claim, owner in changes.claimed:
            if claims.setdefault(claim, owner) != owner:
                raise conflict_for(claim)
        self.claims = claims
        for stream, events in events_by_stream.items():
            decider = DECIDERS[parse_stream_id(stream)[0]]
            self.streams.setdefault(stream, []).extend(events)
            self.evolved[stream] = fold(decider, events, self.evolved.get(stream))

    def states(self, kind: str) -> dict[int, Any]:
        result = {}
        for stream in self.streams:
            stream_kind, id_key = parse_stream_id(stream)
            if stream_kind == kind:
                result[id_key] = self.state(stream)
        return result


def shop() -> World:
    """A category, a client and five bills of that client: the ground orders stand on."""
    world = World().given(
        category.CreateCategory(CATEGORY_ID, "Electronics"),
        client.CreateClient(CLIENT_ID, "John", "Doe", "john@example.com", "+1234567890"),
    )
    for bill_id in range(1, 6):
        world.handle(
            bill.CreateBill(
                bill_id, f"BILL-{bill_id:03}", T0.date(), Decimal(100), PaymentType.CASH, CLIENT_ID
            )
        )
    return world


def market() -> World:
    """The shop with products 1-3 (stock 5), open orders 1-3 on bills 1-3, and lines 1-3
    (line n: one unit of product n in order n).

    Product 4, order 4 (bills 4 and 5 are free) and lines 4-10 are left for the commands.
    """
    world = shop()
    for id_key, price in ((1, "10.00"), (2, "20.00"), (3, "10.00")):
        world.handle(product.CreateProduct(id_key, f"P{id_key}", Decimal(price), CATEGORY_ID, 5))
        world.handle(
            order.PlaceOrder(id_key, T0, DeliveryMethod.ON_HAND, CLIENT_ID, bill_id=id_key)
        )
        world.handle(order.AddOrderLine(id_key, id_key, id_key, 1))
    return world


# --- commands on products, orders and lines -----------------------------------------------

# Mostly the entities that exist, sometimes one that does not (yet).
PRODUCT_IDS = st.sampled_from([1, 1, 2, 2, 3, 3, 4])
ORDER_IDS = st.sampled_from([1, 1, 2, 2, 3, 3, 4])
LINE_IDS = st.sampled_from([1, 1, 2, 2, 3, 3, 4, 5, 6, 7])
NEW_LINE_IDS = st.sampled_from(range(4, 11))
QUANTITIES = st.sampled_from([-1, 0, 1, 1, 2, 2, 3, 4, 6])
PRODUCT_PRICES = st.sampled_from([Decimal("10.00"), Decimal("20.00")])
LINE_PRICES = st.none() | st.sampled_from(
    [Decimal("10.00"), Decimal("10.01"), Decimal("9.99"), Decimal("10.02"), Decimal("20.00")]
)


def _or_unset(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(UNSET) | strategy


product_commands = st.one_of(
    st.builds(
        product.CreateProduct,
        id_key=PRODUCT_IDS,
        name=st.just("Widget"),
        price=PRODUCT_PRICES,
        category_id=st.just(CATEGORY_ID),
        stock=st.integers(0, 10),
    ),
    st.builds(
        product.ChangeProduct,
        id_key=PRODUCT_IDS,
        price=_or_unset(PRODUCT_PRICES),
        stock=_or_unset(st.integers(-1, 10)),
        active=_or_unset(st.booleans()),
    ),
    st.builds(product.DeactivateProduct, id_key=PRODUCT_IDS),
)

order_commands = st.one_of(
    st.builds(
        order.PlaceOrder,
        id_key=st.sampled_from([4, 4, 1]),
        date=st.just(T0),
        delivery_method=st.sampled_from(DeliveryMethod),
        client_id=st.just(CLIENT_ID),
        bill_id=st.sampled_from([4, 5, 1]),
    ),
    st.builds(order.ChangeOrder, id_key=ORDER_IDS, status=st.sampled_from(Status)),
    st.builds(order.DeleteOrder, id_key=ORDER_IDS),
)

line_commands = st.one_of(
    st.builds(
        order.AddOrderLine,
        id_key=NEW_LINE_IDS,
        order_id=ORDER_IDS,
        product_id=PRODUCT_IDS,
        quantity=QUANTITIES,
        price=LINE_PRICES,
    ),
    st.builds(
        order.ChangeOrderLine,
        id_key=LINE_IDS,
        order_id=_or_unset(ORDER_IDS),
        product_id=_or_unset(PRODUCT_IDS),
        quantity=_or_unset(QUANTITIES),
        price=_or_unset(LINE_PRICES),
    ),
    st.builds(order.RemoveOrderLine, id_key=LINE_IDS),
)

# Lines are the heart of the rules, so they come up most often. (one_of would merge repeated
# strategies, so the weights are drawn explicitly.)
_WEIGHTED = [product_commands, order_commands, *[line_commands] * 4]
trading_commands = st.lists(st.sampled_from(_WEIGHTED).flatmap(lambda s: s), max_size=40)

# --- commands on the unique values and located entities -----------------------------------


def registry() -> World:
    """Categories 1-2, clients 1-2 with address n on client n, and bill 1 of client 1; id 3 of
    each is left for the commands to create."""
    return World().given(
        category.CreateCategory(1, "Books"),
        category.CreateCategory(2, "Toys"),
        client.CreateClient(1, email="a@x.io"),
        client.CreateClient(2),
        client.AddAddress(1, 1),
        client.AddAddress(2, 2),
        bill.CreateBill(1, "B-1", T0.date(), Decimal(1), PaymentType.CASH, 1),
    )


_SMALL = st.sampled_from([1, 1, 2, 2, 3])
_EMAILS = st.sampled_from([None, "a@x.io", "A@x.io", "b@x.io"])
_NAMES = st.sampled_from(["Books", "books ", "Toys", "Games"])
_NUMBERS = st.sampled_from(["B-1", "B-2", "b-1"])

registry_commands = st.lists(
    st.one_of(
        st.builds(category.CreateCategory, id_key=_SMALL, name=_NAMES),
        st.builds(category.ChangeCategory, id_key=_SMALL, name=_or_unset(_NAMES)),
        st.builds(category.DeleteCategory, id_key=_SMALL),
        st.builds(client.CreateClient, id_key=_SMALL, email=_EMAILS),
        st.builds(client.ChangeClient, id_key=_SMALL, email=_or_unset(_EMAILS)),
        st.builds(client.DeleteClient, id_key=_SMALL),
        st.builds(client.AddAddress, id_key=_SMALL, client_id=_SMALL),
        st.builds(client.ChangeAddress, id_key=_SMALL, client_id=_or_unset(_SMALL)),
        st.builds(client.RemoveAddress, id_key=_SMALL),
        st.builds(
            bill.CreateBill,
            id_key=_SMALL,
            bill_number=_NUMBERS,
            date=st.just(T0.date()),
            total=st.just(Decimal(1)),
            payment_type=st.just(PaymentType.CASH),
            client_id=_SMALL,
        ),
        st.builds(bill.ChangeBill, id_key=_SMALL, bill_number=_or_unset(_NUMBERS)),
        st.builds(bill.DeleteBill, id_key=_SMALL),
    ),
    max_size=30,
)

# --- commands that break exactly one field rule -------------------------------------------

_long = st.integers(1, 5).map(lambda n: "x" * n)
invalid_commands = st.one_of(
    st.builds(category.CreateCategory, id_key=st.just(9), name=st.sampled_from(["", "c" * 101])),
    st.builds(
        product.CreateProduct,
        id_key=st.just(9),
        name=st.sampled_from(["", "p" * 201]),
        price=st.just(Decimal(1)),
        category_id=st.just(CATEGORY_ID),
    ),
    st.builds(
        product.CreateProduct,
        id_key=st.just(9),
        name=st.just("ok"),
        price=st.sampled_from([Decimal(0), Decimal(-1), Decimal("0.004"), Decimal("NaN")]),
        category_id=st.just(CATEGORY_ID),
    ),
    st.builds(
        product.CreateProduct,
        id_key=st.just(9),
        name=st.just("ok"),
        price=st.just(Decimal(1)),
        category_id=st.just(CATEGORY_ID),
        stock=st.integers(max_value=-1),
    ),
    st.builds(
        client.CreateClient,
        id_key=st.just(9),
        telephone=st.sampled_from(
            ["123", "0123456789", "+12345678901234567890", "12345a7", "١٢٣٤٥٦٧٨"]
        ),
    ),
    st.builds(
        client.CreateClient,
        id_key=st.just(9),
        email=st.sampled_from(["plain", "a@b", "a b@c.d", "@c.d", "a@@c.d"]),
    ),
    st.builds(client.CreateClient, id_key=st.just(9), lastname=st.just("l" * 101)),
    st.builds(
        client.AddAddress, id_key=st.just(9), client_id=st.just(CLIENT_ID), number=st.just("9" * 21)
    ),
    st.builds(
        bill.CreateBill,
        id_key=st.just(9),
        bill_number=st.just("B-9"),
        date=st.just(T0.date()),
        total=st.just(Decimal(10)),
        payment_type=st.just(PaymentType.CARD),
        client_id=st.just(CLIENT_ID),
        discount=st.sampled_from([Decimal("10.01"), Decimal(-1)]),
    ),
    st.builds(
        order.AddOrderLine,
        id_key=st.just(9),
        order_id=st.just(1),
        product_id=st.just(1),
        quantity=st.integers(max_value=0),
    ),
    st.builds(
        review.CreateReview,
        id_key=st.just(9),
        product_id=st.just(1),
        rating=st.sampled_from([0.99, 5.01, float("nan")]),
    ),
    st.builds(
        review.CreateReview,
        id_key=st.just(9),
        product_id=st.just(1),
        rating=st.just(4.0),
        comment=_long,
    ),
    st.builds(category.ChangeCategory, id_key=st.just(CATEGORY_ID), body_id_key=st.just(2)),
)

# --- any event, for the codec -------------------------------------------------------------

_ZONES = st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-3, minutes=-30))])


def _for_hint(hint: Any) -> st.SearchStrategy[Any]:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return st.one_of([_for_hint(arg) for arg in get_args(hint)])
    if origin is tuple:
        return st.lists(_for_hint(get_args(hint)[0]), max_size=4).map(tuple)
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return st.sampled_from(hint)
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(),
        int: st.integers(),
        str: st.text(),
        float: st.floats(allow_nan=False, allow_infinity=False),
        Decimal: st.decimals(allow_nan=False, allow_infinity=False),
        # fold only disambiguates local wall times; ISO strings (and PostgreSQL) do not keep it
        dt.datetime: st.datetimes(timezones=_ZONES).map(lambda d: d.replace(fold=0)),
        dt.date: st.dates(),
    }
    return scalars[hint]


def events_of(cls: type[Event]) -> st.SearchStrategy[Event]:
    hints = get_type_hints(cls)
    return st.builds(cls, **{f.name: _for_hint(hints[f.name]) for f in fields(cls)})


def refusal(world: World, command: Any) -> DomainError:
    """The domain error a command is refused with; the world must be left as it was."""
    before = {stream: list(events) for stream, events in world.streams.items()}
    with pytest.raises(DomainError) as refused:
        world.handle(command)
    assert world.streams == before
    return refused.value


# --- stored data of old schema versions, for the upcasters ---------------------------------

# Words of a name, and the odd whitespace version 1 writers left between them.
WORDS = st.text(st.characters(blacklist_categories=["Z", "Cc", "Cs"]), min_size=1, max_size=8)
_GAPS = st.sampled_from([" ", "  ", "\t", " \n "])
_FULL_NAMES = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.lists(WORDS, min_size=1, max_size=4).flatmap(lambda ws: _GAPS.map(lambda g: g.join(ws))),
)


def stored_v1(cls: type[Event]) -> st.SearchStrategy[dict[str, Any]]:
    """The JSON data version 1 of a client event held: no `lastname`, one full `name`."""

    def v1(event: Event, full_name: str | None) -> dict[str, Any]:
        data = codec.encode(event)[2]
        del data["lastname"]
        return {**data, "name": full_name}

    return st.builds(v1, events_of(cls), _FULL_NAMES)
