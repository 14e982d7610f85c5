"""Each stream kind's decider, for code that folds a stream knowing only its id."""

from collections.abc import Mapping
from typing import Any

from domain import bill, category, client, order, product, review, streams
from domain.decider import Decider

DECIDERS: Mapping[str, Decider[Any, Any, Any]] = {
    streams.CATEGORY: category.decider,
    streams.PRODUCT: product.decider,
    streams.CLIENT: client.decider,
    streams.BILL: bill.decider,
    streams.ORDER: order.decider,
    streams.REVIEW: review.decider,
}
