"""Every error the domain raises, in one place.

    DomainError              a command was refused; `code` is a stable machine string,
    │                        `str(error)` the human message
    ├── NotFoundError        the entity, or one it references, does not exist or was deleted
    │                        (HTTP 404; message "Order with id 5 not found", code "not_found")
    ├── RuleViolationError   a business rule of the original API refused it: stock and price
    │                        (HTTP 400; the original's messages, codes "insufficient_stock",
    │                        "price_mismatch")
    ├── ConflictError        the current state forbids it: duplicate id or unique value, final
    │                        order, inactive product, category with active products, bill backing
    │                        another order or of another client, delivered order deletion
    │                        (HTTP 409)
    └── InvalidCommandError  a field breaks a validation rule (lengths, ranges, formats, discount
                             above total, body id_key differing from the path); `field` names it
                             (HTTP 422)

    StreamCorruptedError     not a refusal: an event stream that cannot have been produced by
                             `decide` (an event before its entity's creation). A bug or tampered
                             data, never a client error (HTTP 500).
    EventSchemaError         not a refusal: a stored event that cannot be decoded or upcast to
                             the current schema (HTTP 500).

The HTTP statuses are named here for the reader; the mapping itself lives in each API's single
error handler.
"""

from typing import ClassVar


class DomainError(Exception):
    default_code: ClassVar[str] = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class NotFoundError(DomainError):
    default_code = "not_found"

    def __init__(self, entity: str, id_key: int) -> None:
        super().__init__(f"{entity} with id {id_key} not found")
        self.entity = entity
        self.id_key = id_key


class RuleViolationError(DomainError):
    default_code = "rule_violation"


class ConflictError(DomainError):
    default_code = "conflict"


class InvalidCommandError(DomainError):
    default_code = "invalid_field"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class StreamCorruptedError(Exception):
    pass


class EventSchemaError(Exception):
    pass
