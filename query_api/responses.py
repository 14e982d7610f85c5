"""How a read becomes a response, for the FastAPI routes and the hot path alike.

The bytes the read models hold are sent as they are: no decoding, no re-encoding. Every answer
says where it came from (X-Read-Source) and the feed position the read model had reached
(X-Projection-Position); a single document carries an ETag (a digest of its bytes, so it is the
same whichever store served it) and honours If-None-Match with a 304.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

from orders.web import error_response
from query_api.reads import Read
from query_api.resources import Resource

JSON = "application/json"


def read_headers(read: Read) -> dict[str, str]:
    return {"X-Read-Source": read.source, "X-Projection-Position": str(read.position)}


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match: `*`, or a list of (possibly weak) ETags, one of which is this one."""
    tags = (tag.strip() for tag in if_none_match.split(","))
    return any(tag in ("*", etag) or tag.removeprefix("W/") == etag for tag in tags)


def page_response(read: Read) -> Response:
    return Response(read.body, media_type=JSON, headers=read_headers(read))


def document_response(
    resource: Resource, id_key: int, read: Read, if_none_match: str | None
) -> Response:
    headers = read_headers(read)
    if read.body is None:
        message = f"{resource.noun} with id {id_key} not found"
        return error_response(404, message, "not_found", headers=headers)
    headers["ETag"] = etag = etag_of(read.body)
    if if_none_match is not None and matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(read.body, media_type=JSON, headers=headers)
