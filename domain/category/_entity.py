"""Categories in the catalogue: their document, bodies and claims (see `domain.entity`)."""

from typing import Annotated, get_args

from pydantic import BaseModel, Field

from domain.bodies import Body
from domain.category._decider import KIND, CategoryState, decider
from domain.category._decisions import SPECS
from domain.category._messages import (
    CategoryCreated,
    CategoryDeleted,
    CategoryEvent,
    CategoryRenamed,
    ChangeCategory,
    CreateCategory,
    DeleteCategory,
)
from domain.claims import Claim, swap
from domain.entity import Aggregate, Claims, Document, Entity
from domain.events import Event

CATEGORY_NAME = "category_name"


class CategoryCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]


class CategoryChange(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class CategoryDocument(BaseModel):
    id_key: int
    name: str


def category_documents(state: CategoryState | None) -> list[Document]:
    if state is None or state.deleted:
        return []
    return [{"id_key": state.id_key, "name": state.name}]


def category_name_claim(name: str) -> Claim:
    """Category names are unique whatever their case and spacing."""
    return Claim(CATEGORY_NAME, " ".join(name.split()).casefold())


def claims_of(event: Event) -> Claims:
    match event:
        case CategoryCreated(name=name):
            return [category_name_claim(name)], []
        case CategoryRenamed(name=name, previous_name=previous):
            return swap([category_name_claim(name)], [category_name_claim(previous)])
        case CategoryDeleted(name=name):
            return [], [category_name_claim(name)]
        case _:
            return [], []


CATEGORIES = Entity(
    "categories", "Category", "Categories", KIND, "category", category_documents,
    CategoryDocument, CategoryCreate, CategoryChange,
    CreateCategory, ChangeCategory, DeleteCategory,
)  # fmt: skip

AGGREGATE = Aggregate(
    KIND,
    decider,
    CategoryState,
    get_args(CategoryEvent),
    (CATEGORIES,),
    SPECS,
    claims_of,
    {CATEGORY_NAME: ("Category with name {} already exists", "duplicate_category_name")},
)
