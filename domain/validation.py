"""Field rules of DOMAIN.md, checked by the domain itself.

The HTTP layer validates too, but a decision must not trust its caller: each check raises
`InvalidCommandError` naming the field. Money is `Decimal`, rounded half-up to cents *before*
any rule looks at it, so every comparison (price > 0, discount <= total, price tolerance) is
made on the amount that will be stored.
"""

import re
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum
from typing import TypeVar

from domain.errors import InvalidCommandError

CENT = Decimal("0.01")
TELEPHONE = re.compile(r"\+?[1-9][0-9]{6,19}")
# Deliberately simple: one "@", no spaces, a dot in the domain. Deliverability is not ours to
# judge, and the original accepted what its schema's email type accepted.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX_LENGTH = 254
RATING_MIN = 1.0
RATING_MAX = 5.0

N = TypeVar("N", bound=IntEnum)
T = TypeVar("T")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def text(field: str, value: str | None, *, max_length: int, min_length: int = 1) -> str:
    if value is None:
        raise InvalidCommandError(field, f"{field} is required")
    if not min_length <= len(value) <= max_length:
        raise InvalidCommandError(
            field, f"{field} must be {min_length} to {max_length} characters long"
        )
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text or jsonb: refuse it here, not as a 500 there.
        raise InvalidCommandError(field, f"{field} must not contain NUL characters")
    return value


def optional_text(
    field: str, value: str | None, *, max_length: int, min_length: int = 1
) -> str | None:
    if value is None:
        return None
    return text(field, value, max_length=max_length, min_length=min_length)


def money(field: str, value: Decimal | None, *, allow_zero: bool) -> Decimal:
    if value is None:
        raise InvalidCommandError(field, f"{field} is required")
    value = _decimal(field, value)
    if not value.is_finite():
        raise InvalidCommandError(field, f"{field} must be a finite amount")
    amount = cents(value)
    if amount < 0 or (amount == 0 and not allow_zero):
        bound = "greater than or equal to 0" if allow_zero else "greater than 0"
        raise InvalidCommandError(field, f"{field} must be {bound}")
    return amount


def _decimal(field: str, value: object) -> Decimal:
    """Money arrives as Decimal; an int or float from a careless edge is taken at its word."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCommandError(field, f"{field} must be a number")
    return Decimal(str(value))


def count(field: str, value: int | None, *, minimum: int) -> int:
    if value is None:
        raise InvalidCommandError(field, f"{field} is required")
    if value < minimum:
        raise InvalidCommandError(field, f"{field} must be at least {minimum}")
    return value


def member(field: str, kind: type[N], value: N | None) -> N:
    if value is None:
        raise InvalidCommandError(field, f"{field} is required")
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(int(m)) for m in kind)
        raise InvalidCommandError(field, f"{field} must be one of {allowed}") from None


def required(field: str, value: T | None) -> T:
    if value is None:
        raise InvalidCommandError(field, f"{field} is required")
    return value


def email(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    text(field, value, max_length=EMAIL_MAX_LENGTH)
    if not EMAIL.fullmatch(value):
        raise InvalidCommandError(field, f"{field} must be a valid email address")
    return value


def telephone(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    text(field, value, min_length=7, max_length=20)
    if not TELEPHONE.fullmatch(value):
        raise InvalidCommandError(field, rf"{field} must match ^\+?[1-9]\d{{6,19}}$")
    return value


def rating(field: str, value: float | None) -> float:
    if value is None:
        raise InvalidCommandError(field, f"{field} is required")
    # Written so that NaN fails too: every comparison with NaN is false.
    if not RATING_MIN <= value <= RATING_MAX:
        raise InvalidCommandError(field, f"{field} must be between 1.0 and 5.0")
    return float(value)


def same_id(path_id: int, body_id: int | None) -> None:
    """A body id_key equal to the path's is ignored; a different one is refused."""
    if body_id is not None and body_id != path_id:
        raise InvalidCommandError(
            "id_key",
            f"id_key {body_id} in the body differs from {path_id} in the path",
            code="id_key_mismatch",
        )
