"""Who may call the guarded endpoints: a bearer token equal to the one configured for the role.

    auditors   ORDERS_AUDIT_TOKEN   histories, `?as_of=`, the global feed, the hash-chain check
    operators  ORDERS_ADMIN_TOKEN   projection status and rebuilds, erasures (`/admin/...`)

One gate serves both. No token configured means the role is disabled: every endpoint behind it
answers 404 (`audit_disabled`, `admin_disabled`), so a deployment that never set a token exposes
nothing behind it. Without a bearer token: 401; with a wrong one: 403 (digests compared in
constant time).

(No `from __future__ import annotations`: FastAPI reads the annotations of the dependency that
`guard` builds, which name the bearer scheme made in it.)
"""

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from orders.settings import Settings
from orders.web.errors import ApiError


@dataclass(frozen=True, slots=True)
class Role:
    name: str  # the prefix of the "disabled" code, and the gate's key in app.state.gates
    setting: str  # the variable holding its token
    scheme: str  # the OpenAPI security scheme
    activity: str  # "Auditing is disabled ..."
    holder: str  # "An auditor's bearer token is required."
    may: str  # "This token may not read the audit trail."


AUDITORS = Role("audit", "ORDERS_AUDIT_TOKEN", "AuditToken", "Auditing", "An auditor's",
                "read the audit trail")  # fmt: skip
OPERATORS = Role("admin", "ORDERS_ADMIN_TOKEN", "AdminToken", "Administration", "An operator's",
                 "operate this platform")  # fmt: skip


class TokenGate:
    def __init__(self, role: Role, token: SecretStr | None) -> None:
        self.role = role
        secret = token.get_secret_value() if token is not None else ""
        # digests are compared, so neither the content nor the length of the token leaks
        self._token = hashlib.sha256(secret.encode()).digest() if secret else None

    def check(self, presented: str | None) -> None:
        """Raise the refusal for a presented bearer token (None: none was sent)."""
        role = self.role
        if self._token is None:
            raise ApiError(
                404,
                f"{role.activity} is disabled on this server (no {role.setting}).",
                f"{role.name}_disabled",
            )
        if not presented:
            raise ApiError(
                401,
                f"{role.holder} bearer token is required.",
                "unauthorized",
                {"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(hashlib.sha256(presented.encode()).digest(), self._token):
            raise ApiError(403, f"This token may not {role.may}.", "forbidden")


def build_gates(settings: Settings) -> dict[str, TokenGate]:
    """What `app.state.gates` holds: a gate per role, with the configured tokens."""
    return {
        AUDITORS.name: TokenGate(AUDITORS, settings.audit_token),
        OPERATORS.name: TokenGate(OPERATORS, settings.admin_token),
    }


def check_token(request: Request, role: Role) -> None:
    """For a route that needs the role only for some requests (`?as_of=`)."""
    gate: TokenGate = request.app.state.gates[role.name]
    gate.check(bearer_token(request.headers.get("authorization")))


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def guard(role: Role) -> Callable[..., Awaitable[None]]:
    """The dependency of every route of a role (also what puts the lock on them in /docs)."""
    bearer = HTTPBearer(
        auto_error=False, scheme_name=role.scheme, description=f"The token in {role.setting}."
    )

    async def require(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> None:
        gate: TokenGate = request.app.state.gates[role.name]
        gate.check(credentials.credentials if credentials is not None else None)

    return require


require_auditor = guard(AUDITORS)
require_operator = guard(OPERATORS)
