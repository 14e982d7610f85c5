"""The query API's view of the catalogue: each entity with the read-model table that serves it,
and the bounds of the query parameters. Nothing here is written per entity."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from domain.bodies import ID_MAX
from domain.catalogue import ENTITIES
from domain.entity import Entity, ListFilters
from readmodels.schema import TABLES, Table

__all__ = ["BY_NAME", "ID_MAX", "LIMIT_MAX", "RESOURCES", "SKIP_MAX", "Resource"]

SKIP_MAX = 10**15
LIMIT_MAX = 1000


@dataclass(frozen=True, slots=True)
class Resource:
    entity: Entity
    table: Table

    @property
    def name(self) -> str:  # the path without slash: "order_details"
        return self.entity.name

    @property
    def noun(self) -> str:  # in messages: "OrderDetail with id 3 not found"
        return self.entity.noun

    @property
    def tag(self) -> str:
        return self.entity.tag

    @property
    def path(self) -> str:
        return self.entity.path

    @property
    def filters(self) -> type[ListFilters]:
        return self.entity.filters

    @property
    def document(self) -> type[BaseModel]:
        return self.entity.document


RESOURCES: tuple[Resource, ...] = tuple(Resource(e, TABLES[e.name]) for e in ENTITIES)
BY_NAME: dict[str, Resource] = {r.name: r for r in RESOURCES}
