"""Decisions on order lines (the original's order details): the order and the stock together.

Creating a line checks, in the original's order: the order exists (404) and is open (409);
the product exists (404) and is active (409); the stock covers the quantity (400); a missing
price is the product's; a sent price is within 0.01 of it (400). The reservation is appended
to the product stream in the same append as the line.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal

from domain import product, validation
from domain.decision import Each, One, Read, Spec, decide_each, held, located, lookup, merged, on
from domain.decision import sent as sent_ids
from domain.errors import RuleViolationError
from domain.events import StreamEvents
from domain.order._decider import (
    KIND,
    OrderLine,
    OrderState,
    decide,
    line_fields,
    require_line,
    require_open,
)
from domain.order._messages import AddOrderLine, ChangeOrderLine, RemoveOrderLine
from domain.patch import UNSET, Unset, patched, pick
from domain.product import ProductCommand, ProductState, ReleaseStock, ReserveStock
from domain.records import replace

ORDER_DETAIL = "order_detail"  # the locator: line id_key -> the stream of the order holding it

PRICE_TOLERANCE = Decimal("0.01")


def resolve_price(state: ProductState, sent: Decimal | None) -> Decimal:
    """The line's price: the product's when none is sent, else the sent one if close enough."""
    if sent is None:
        return state.price
    if abs(sent - state.price) > PRICE_TOLERANCE:
        raise RuleViolationError(
            f"Price mismatch. Expected {state.price}, got {sent}", code="price_mismatch"
        )
    return sent


def add_order_line(
    order_state: OrderState | None, product_state: ProductState | None, command: AddOrderLine
) -> StreamEvents:
    """`order_state` is order `command.order_id`'s, `product_state` product `product_id`'s."""
    quantity, sent_price = line_fields(command.quantity, command.price)
    validation.required("product_id", command.product_id)
    require_open(order_state, command.order_id)
    reserve = ReserveStock(command.product_id, command.order_id, command.id_key, quantity)
    stock = product.decide(product_state, reserve)
    price = resolve_price(product.require(product_state, command.product_id), sent_price)
    line = AddOrderLine(command.id_key, command.order_id, command.product_id, quantity, price)
    return merged(
        on(KIND, command.order_id, decide(order_state, line)),
        on(product.KIND, command.product_id, stock),
    )


def change_order_line(
    holder: OrderState | None,
    target: OrderState | None,
    products: Mapping[int, ProductState | None],
    command: ChangeOrderLine,
) -> StreamEvents:
    """`holder` is the order the `order_detail` locator points to (None if none: 404);
    `target` is order `command.order_id`'s when that is sent and differs (else unused);
    `products` holds the line's product and `command.product_id` if sent.

    A quantity change reserves or releases the difference; a product change releases the old
    product's units and reserves the new one's; an order change moves the line between two
    open orders (both streams in the same append).
    """
    validation.same_id(command.id_key, command.body_id_key)
    holder_state, line = require_line(holder, command.id_key)
    quantity, sent_price = _line_fields(line, command)
    product_id = patched(command.product_id, line.product_id, _reference("product_id"))
    order_id = patched(command.order_id, holder_state.id_key, _reference("order_id"))
    require_open(holder_state, holder_state.id_key)
    if order_id != holder_state.id_key:
        require_open(target, order_id)
    changed = OrderLine(line.id_key, product_id, quantity, line.price)
    stock = _restock(line, changed, (holder_state.id_key, order_id), products)
    if not isinstance(command.price, Unset) or product_id != line.product_id:
        state = product.require(lookup(products, product.KIND, product_id), product_id)
        changed = replace(changed, price=resolve_price(state, sent_price))
    return merged(_line_events(holder_state, target, order_id, changed), stock)


def remove_order_line(
    holder: OrderState | None,
    products: Mapping[int, ProductState | None],
    command: RemoveOrderLine,
) -> StreamEvents:
    """`holder` is the order the `order_detail` locator points to (None if none: 404);
    `products` holds the line's product, whose units come back."""
    events = decide(holder, command)
    holder_state, line = require_line(holder, command.id_key)
    release = ReleaseStock(line.product_id, holder_state.id_key, line.id_key, line.quantity)
    return merged(
        on(KIND, holder_state.id_key, events),
        decide_each(product.decider, product.KIND, products, [(line.product_id, release)]),
    )


def _reference(field: str) -> Callable[[int], int]:
    return lambda value: validation.required(field, value)


def _line_fields(line: OrderLine, command: ChangeOrderLine) -> tuple[int, Decimal | None]:
    """The new quantity and the sent price (None: not sent, or sent to be resolved)."""
    sent_price = None if isinstance(command.price, Unset) else command.price
    return line_fields(pick(command.quantity, line.quantity), sent_price)


def _restock(
    line: OrderLine,
    changed: OrderLine,
    order_ids: tuple[int, int],
    products: Mapping[int, ProductState | None],
) -> StreamEvents:
    """Reserve the new product's units before releasing the old ones: the checks come first."""
    (holder_id, order_id), line_id = order_ids, line.id_key
    commands: list[tuple[int, ProductCommand]] = []
    if changed.product_id != line.product_id:
        commands += [
            (
                changed.product_id,
                ReserveStock(changed.product_id, order_id, line_id, changed.quantity),
            ),
            (line.product_id, ReleaseStock(line.product_id, holder_id, line_id, line.quantity)),
        ]
    elif (more := changed.quantity - line.quantity) > 0:
        commands += [
            (
                line.product_id,
                ReserveStock(line.product_id, order_id, line_id, more, additional=True),
            )
        ]
    elif more < 0:
        commands += [(line.product_id, ReleaseStock(line.product_id, holder_id, line_id, -more))]
    return decide_each(product.decider, product.KIND, products, commands)


def _line_events(
    holder: OrderState, target: OrderState | None, order_id: int, line: OrderLine
) -> StreamEvents:
    fields = (line.product_id, line.quantity, line.price)
    if order_id == holder.id_key:
        change = ChangeOrderLine(line.id_key, UNSET, *fields)
        return on(KIND, order_id, decide(holder, change))
    removed = decide(holder, RemoveOrderLine(line.id_key))
    added = decide(target, AddOrderLine(line.id_key, order_id, *fields))
    return merged(on(KIND, holder.id_key, removed), on(KIND, order_id, added))


def _line_product(state: OrderState | None, line_id: int) -> frozenset[int]:
    line = None if state is None else state.line(line_id)
    return frozenset() if line is None else frozenset({line.product_id})


def _change_reads(command: ChangeOrderLine, state: OrderState | None) -> tuple[Read, ...]:
    """The order it moves to, the line's product and the one it changes to."""
    products = _line_product(state, command.id_key) | sent_ids(command.product_id)
    return One(KIND, command.order_id), Each(product.KIND, products)


SPECS: tuple[Spec, ...] = (
    held(
        KIND, "order_id", AddOrderLine, add_order_line,
        lambda c, _: (One(product.KIND, c.product_id),),
    ),
    located(ORDER_DETAIL, ChangeOrderLine, change_order_line, _change_reads),
    located(
        ORDER_DETAIL, RemoveOrderLine, remove_order_line,
        lambda c, s: (Each(product.KIND, _line_product(s, c.id_key)),),
    ),
)  # fmt: skip
