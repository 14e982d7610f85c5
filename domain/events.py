"""Every event type of the domain, as one union, and the shape of a multi-stream decision."""

from typing import TypeAlias, get_args

from domain.bill import BillEvent
from domain.category import CategoryEvent
from domain.client import ClientEvent
from domain.order import OrderEvent
from domain.product import ProductEvent
from domain.review import ReviewEvent

Event: TypeAlias = CategoryEvent | ProductEvent | ClientEvent | BillEvent | OrderEvent | ReviewEvent

# What a decision returns: the events to append, by stream id, all in one atomic append (each
# stream with the version its state was read at). Streams without events are left out.
StreamEvents: TypeAlias = dict[str, list[Event]]

EVENT_CLASSES: tuple[type[Event], ...] = get_args(Event)
