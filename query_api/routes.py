"""GET list and GET one for every resource, built from the resource table: what the OpenAPI
document describes, what validates a request the hot path (`hotpath.py`) leaves to FastAPI, and
what serves requests carrying a consistency token or `?as_of=`. Both answer through
`responses.py`, so they answer alike.

(No `from __future__ import annotations`: FastAPI reads the annotations of the route functions
built in `_routes`, which must be the classes themselves.)
"""

from typing import Annotated, Any, cast

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from domain.entity import ListFilters
from orders.web.auth import AUDITORS
from query_api.audit import state_as_of
from query_api.errors import AUDIT_ERRORS, READ_ERRORS
from query_api.reads import Page
from query_api.resources import ID_MAX, LIMIT_MAX, RESOURCES, SKIP_MAX, Resource
from query_api.responses import document_response, page_response

PathId = Annotated[int, Path(ge=1, le=ID_MAX, description="The entity's id_key")]
Skip = Annotated[int, Query(ge=0, le=SKIP_MAX, description="Entities to skip (by id_key)")]
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Page size")]
Token = Annotated[
    str | None,
    Header(
        alias="X-Consistency-Token",
        description="From a command API response: answer only once that write is visible "
        "(waits up to ORDERS_CONSISTENCY_WAIT seconds, then 503 with Retry-After).",
    ),
]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", description="An ETag: 304")]
AsOf = Annotated[
    str | None,
    Query(
        description="Auditors only (bearer ORDERS_AUDIT_TOKEN): the state at an ISO 8601 time or "
        "a feed position, replayed from the events.",
    ),
]

ONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {"ETag": {"description": "A digest of the bytes", "schema": {"type": "string"}}}
    },
    304: {"description": "Not modified: If-None-Match named the current ETag."},
    **READ_ERRORS,
    401: AUDIT_ERRORS[401],  # ?as_of= only
    403: AUDIT_ERRORS[403],
}


def _routes(resource: Resource, router: APIRouter) -> None:
    table, filters_model = resource.table, resource.filters
    document = resource.document
    documents = list[document]  # type: ignore[valid-type]

    async def list_documents(
        request: Request,
        filters: Annotated[filters_model, Query()],  # type: ignore[valid-type]
        skip: Skip = 0,
        limit: Limit = 100,
        x_consistency_token: Token = None,
    ) -> Response:
        page = Page(table, skip, limit, cast("ListFilters", filters).fields())
        return page_response(await request.app.state.reads.page(page, x_consistency_token))

    async def read_document(
        request: Request,
        id_key: PathId,
        as_of: AsOf = None,
        x_consistency_token: Token = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        if as_of is not None:
            return await state_as_of(request, resource, id_key, as_of)
        read = await request.app.state.reads.one(table, id_key, x_consistency_token)
        return document_response(resource, id_key, read, if_none_match)

    plural = resource.name.replace("_", " ")
    router.add_api_route(
        "", list_documents, methods=["GET"], summary=f"List {plural}, ordered by id_key",
        response_model=documents, responses=READ_ERRORS, operation_id=f"list_{resource.name}",
    )  # fmt: skip
    router.add_api_route(
        "/{id_key}", read_document, methods=["GET"], summary=f"One of the {plural}",
        response_model=document, responses=ONE_RESPONSES, operation_id=f"read_{resource.name}",
        openapi_extra={"security": [{}, {AUDITORS.scheme: []}]},  # the token only for ?as_of=
    )  # fmt: skip


def build_routers() -> list[APIRouter]:
    routers = []
    for resource in RESOURCES:
        router = APIRouter(prefix=resource.path, tags=[resource.tag])
        _routes(resource, router)
        routers.append(router)
    return routers
