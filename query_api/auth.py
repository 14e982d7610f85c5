"""Who may read the audit trail: a bearer token equal to ORDERS_AUDIT_TOKEN.

No token configured means auditing is disabled: every audit endpoint (and `?as_of=`) answers 404
`audit_disabled`, so a deployment that never set a token exposes no history at all. Without a
bearer token: 401; with a wrong one: 403 (digests compared in constant time).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from orders.web import ApiError

SCHEME = "AuditToken"
bearer = HTTPBearer(
    auto_error=False, scheme_name=SCHEME, description="The auditors' token, ORDERS_AUDIT_TOKEN."
)


class AuditGate:
    def __init__(self, token: SecretStr | None) -> None:
        secret = token.get_secret_value() if token is not None else ""
        # digests are compared, so neither the content nor the length of the token leaks
        self._token = hashlib.sha256(secret.encode()).digest() if secret else None

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def check(self, presented: str | None) -> None:
        """Raise the refusal for a presented bearer token (None: none was sent)."""
        if self._token is None:
            raise ApiError(
                404,
                "Auditing is disabled on this server (no ORDERS_AUDIT_TOKEN).",
                "audit_disabled",
            )
        if not presented:
            raise ApiError(
                401,
                "An auditor's bearer token is required.",
                "unauthorized",
                {"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(hashlib.sha256(presented.encode()).digest(), self._token):
            raise ApiError(403, "This token may not read the audit trail.", "forbidden")


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


async def require_auditor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> None:
    """The dependency of every audit route (also what puts the lock on them in /docs)."""
    gate: AuditGate = request.app.state.audit_gate
    gate.check(credentials.credentials if credentials is not None else None)
