"""What each read-model table holds: the documents of one stream's state, declared once per table.

The documents come from `domain.documents`, the same functions the command API renders its
responses with, so a read model serves byte for byte what the write returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import documents
from domain.documents import Document

DocumentsOf = Callable[[Any], list[Document]]


def _one(to_document: Callable[[Any], Document | None]) -> DocumentsOf:
    def documents_of(state: Any) -> list[Document]:
        document = to_document(state)
        return [] if document is None else [document]

    return documents_of


# table name (schema.Table.name) -> the documents a stream's state contributes to it
DOCUMENTS: Mapping[str, DocumentsOf] = {
    "categories": _one(documents.category_document),
    "products": _one(documents.product_document),
    "clients": _one(documents.client_document),
    "addresses": documents.address_documents,
    "bills": _one(documents.bill_document),
    "orders": _one(documents.order_document),
    "order_details": documents.order_detail_documents,
    "reviews": _one(documents.review_document),
}
