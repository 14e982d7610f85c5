"""Category: a uniquely named group of products.

The category stream also records which of its products are active (attached and detached by
the product decisions, in the same append as the product's own events), so "a category with
active products cannot be deleted" is decided from this one stream with full consistency.
"""

from domain.category._decider import (
    KIND,
    NAME_MAX_LENGTH,
    CategoryState,
    decide,
    decider,
    evolve,
    require,
)
from domain.category._decisions import change_category, create_category, delete_category
from domain.category._entity import (
    AGGREGATE,
    CATEGORIES,
    CATEGORY_NAME,
    CategoryChange,
    CategoryCreate,
    CategoryDocument,
    category_documents,
    category_name_claim,
)
from domain.category._messages import (
    AttachProduct,
    CategoryCommand,
    CategoryCreated,
    CategoryDeleted,
    CategoryEvent,
    CategoryProductAttached,
    CategoryProductDetached,
    CategoryRenamed,
    ChangeCategory,
    CreateCategory,
    DeleteCategory,
    DetachProduct,
)

__all__ = [
    "AGGREGATE",
    "CATEGORIES",
    "CATEGORY_NAME",
    "KIND",
    "NAME_MAX_LENGTH",
    "AttachProduct",
    "CategoryChange",
    "CategoryCommand",
    "CategoryCreate",
    "CategoryCreated",
    "CategoryDeleted",
    "CategoryDocument",
    "CategoryEvent",
    "CategoryProductAttached",
    "CategoryProductDetached",
    "CategoryRenamed",
    "CategoryState",
    "ChangeCategory",
    "CreateCategory",
    "DeleteCategory",
    "DetachProduct",
    "category_documents",
    "category_name_claim",
    "change_category",
    "create_category",
    "decide",
    "decider",
    "delete_category",
    "evolve",
    "require",
]
