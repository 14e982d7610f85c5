"""The operators' endpoint of the command API, behind ORDERS_ADMIN_TOKEN:

    POST /admin/erasures   {"client_id": N}   erase a client's personal data (201; 404 unknown;
                                              409 where personal data is not sealed)

(No `from __future__ import annotations`: FastAPI reads the body annotation of the route.)
"""

from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from command_api.erasure import NotSealedError, erase_client
from command_api.routes import edge_of
from domain.bodies import Id
from orders.consistency import token_for
from orders.web import ApiError, error_responses
from orders.web.auth import require_operator


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: Id


class Erasure(BaseModel):
    client_id: int
    erased: bool = Field(description="Always true: the client's personal data is gone.")
    keys_destroyed: int = Field(description="Data keys destroyed (0 if already erased).")
    responses_erased: int = Field(description="Stored idempotent responses rewritten.")


async def erase(request: Request, body: Annotated[ErasureRequest, Body()]) -> Response:
    commands = request.app.state.commands
    edge = await edge_of(request, None, None)
    try:
        erased = await erase_client(
            commands.path, body.client_id, edge, notify=commands.notices.publish,
            register=commands.register,
        )  # fmt: skip
    except NotSealedError as e:
        raise ApiError(409, str(e), "personal_data_not_sealed") from e
    await commands.waker.wake()
    document = Erasure(
        client_id=erased.client_id, erased=True, keys_destroyed=erased.keys_destroyed,
        responses_erased=erased.responses_erased,
    )  # fmt: skip
    return Response(
        orjson.dumps(document.model_dump()), status_code=201, media_type="application/json",
        headers={"x-consistency-token": token_for(erased.position)},
    )  # fmt: skip


def build_admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_operator)])
    router.add_api_route(
        "/erasures", erase, methods=["POST"], status_code=201, response_model=Erasure,
        summary="Erase a client's personal data (GDPR art. 17): sealed values shredded",
        responses=error_responses(401, 403, 404, 409, 422, 503),
        operation_id="erase_client",
    )  # fmt: skip
    return router
