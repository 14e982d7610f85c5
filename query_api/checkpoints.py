"""The auditors' signed checkpoints (`orders.signed_checkpoints`): the newest one the signer
appended to its sink, and the public key to check it with, for an external custodian to collect.
Both need the audit token. The query API only reads the sink: the signing key is never here.

    GET /audit/checkpoints/latest              the newest checkpoint (404 while there is none)
    GET /audit/checkpoints/public-key[?key_id] the key of the newest checkpoint, or a named one

Both read files, so they are plain functions: FastAPI runs them on its thread pool, off the loop.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from orders.signed_checkpoints.signing import Checkpoint, PublicKey
from orders.signed_checkpoints.sink import DirectorySink
from orders.web import ApiError
from orders.web.auth import require_auditor
from query_api.errors import AUDIT_ERRORS

NONE_YET = "No signed checkpoint yet: the signer (`orders checkpoints sign`) has written none."


def latest(request: Request) -> Checkpoint:
    sink: DirectorySink = request.app.state.checkpoints
    checkpoint = sink.latest()
    if checkpoint is None:
        raise ApiError(404, NONE_YET, "no_checkpoint")
    return checkpoint


def public_key(
    request: Request,
    key_id: Annotated[
        str | None,
        Query(pattern=r"^[0-9a-f]{16}$", description="A key's id (default: the newest's)"),
    ] = None,
) -> PublicKey:
    sink: DirectorySink = request.app.state.checkpoints
    if key_id is None:
        newest = sink.latest()
        if newest is None:
            raise ApiError(404, NONE_YET, "no_checkpoint")
        key_id = newest.key_id
    key = sink.read_key(key_id)
    if key is None:
        raise ApiError(404, f"No public key {key_id} in the checkpoints' sink.", "unknown_key")
    return key


def build_checkpoints_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_auditor)])
    router.add_api_route(
        "/audit/checkpoints/latest", latest, methods=["GET"], tags=["Audit"],
        response_model=Checkpoint, responses=AUDIT_ERRORS, operation_id="latest_checkpoint",
        summary="The newest signed checkpoint of the feed's head, for a custodian to keep",
    )  # fmt: skip
    router.add_api_route(
        "/audit/checkpoints/public-key", public_key, methods=["GET"], tags=["Audit"],
        response_model=PublicKey, responses=AUDIT_ERRORS, operation_id="checkpoint_public_key",
        summary="The Ed25519 public key that signed the newest checkpoint (or `key_id`'s)",
    )  # fmt: skip
    return router
