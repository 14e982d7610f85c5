"""The shared pieces: the decider shape, stream ids, PUT patches, field rules, errors."""

import dataclasses
from decimal import Decimal

import pytest

from domain import category, validation
from domain.catalogue import BY_KIND, aggregate_of
from domain.category import CategoryCreated, CategoryEvent, CategoryRenamed, CategoryState
from domain.decider import Decider, existing, fold
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidCommandError,
    NotFoundError,
    RuleViolationError,
    StreamCorruptedError,
)
from domain.patch import UNSET, Unset, patched, pick
from domain.records import replace
from domain.streams import parse_stream_id, stream_id


def test_fold_replays_events_from_the_initial_state_or_a_given_one() -> None:
    events: list[CategoryEvent] = [CategoryCreated(1, "A"), CategoryRenamed(1, "B", "A")]

    assert fold(category.decider, events) == CategoryState(1, "B")
    assert fold(category.decider, events[1:], CategoryState(1, "A")) == CategoryState(1, "B")
    assert fold(category.decider, list[CategoryEvent]()) is None


def test_a_decider_is_three_plain_values() -> None:
    counter: Decider[int, int, int] = Decider(
        initial_state=0, decide=lambda s, c: [c] if s + c >= 0 else [], evolve=lambda s, e: s + e
    )

    assert fold(counter, counter.decide(5, 3)) == 3


def test_replace_copies_a_state_as_dataclasses_replace_does() -> None:
    state = CategoryState(1, "A", active_products=frozenset({3}))

    renamed = replace(state, name="B")

    assert renamed == dataclasses.replace(state, name="B") == CategoryState(1, "B", frozenset({3}))
    assert state == CategoryState(1, "A", frozenset({3}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        renamed.name = "C"  # type: ignore[misc]
    with pytest.raises(TypeError, match="colour"):
        replace(state, colour="red")  # type: ignore[call-arg]


@dataclasses.dataclass(frozen=True)
class _Range:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")


def test_replace_still_runs_a_post_init_check() -> None:
    with pytest.raises(ValueError, match="low above high"):
        replace(_Range(1, 2), low=3)


def test_an_event_before_its_entitys_creation_is_a_corrupt_stream() -> None:
    with pytest.raises(StreamCorruptedError, match="CategoryRenamed"):
        fold(category.decider, [CategoryRenamed(1, "B", "A")])
    assert existing(1, object()) == 1


@pytest.mark.parametrize("kind", BY_KIND)
def test_stream_ids_name_the_kind_and_the_id(kind: str) -> None:
    assert stream_id(kind, 17) == f"{kind}-17"
    assert parse_stream_id(f"{kind}-17") == (kind, 17)


@pytest.mark.parametrize(
    "stream", ["product", "product-", "Widget-1", "product-x", "product--1", "product-²"]
)
def test_malformed_stream_ids_are_refused(stream: str) -> None:
    with pytest.raises(ValueError, match="not a stream id"):
        parse_stream_id(stream)


def test_stream_ids_take_known_kinds_and_integer_ids() -> None:
    with pytest.raises(ValueError, match="unknown stream kind"):
        aggregate_of(stream_id("widget", 1))
    with pytest.raises(ValueError, match="not a stream kind"):
        stream_id("Widget", 1)
    with pytest.raises(TypeError):
        stream_id("product", True)
    with pytest.raises(TypeError):
        stream_id("product", "1")  # type: ignore[arg-type]


def test_unset_means_not_sent_and_none_is_a_value() -> None:
    assert pick(UNSET, "kept") == "kept"
    assert pick(None, "kept") is None
    assert patched(UNSET, 1, lambda v: v * 10) == 1
    assert patched(2, 1, lambda v: v * 10) == 20
    assert repr(UNSET) == "UNSET"
    assert isinstance(UNSET, Unset)


@pytest.mark.parametrize(
    ("value", "allow_zero", "expected"),
    [
        (Decimal("1.005"), False, Decimal("1.01")),
        (Decimal("1.004"), False, Decimal("1.00")),
        (Decimal(0), True, Decimal("0.00")),
        (3, False, Decimal("3.00")),
        (0.1, False, Decimal("0.10")),
    ],
)
def test_money_is_rounded_half_up_to_cents(
    value: Decimal, allow_zero: bool, expected: Decimal
) -> None:
    amount = validation.money("price", value, allow_zero=allow_zero)

    assert (amount, str(amount)) == (expected, str(expected))


@pytest.mark.parametrize(
    "value", [None, True, "1", Decimal("NaN"), Decimal("-Infinity"), Decimal("0.004")]
)
def test_money_refuses_what_is_not_a_positive_amount(value: object) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        validation.money("price", value, allow_zero=False)  # type: ignore[arg-type]

    assert refused.value.field == "price"


@pytest.mark.parametrize(
    "check",
    [
        lambda: validation.text("f", None, max_length=1),
        lambda: validation.count("f", None, minimum=0),
        lambda: validation.member("f", Unset, None),  # type: ignore[type-var]
        lambda: validation.rating("f", None),
        lambda: validation.required("f", None),
    ],
)
def test_a_missing_required_value_names_its_field(check: object) -> None:
    with pytest.raises(InvalidCommandError, match=r"^f is required$"):
        check()  # type: ignore[operator]


def test_optional_values_may_be_none() -> None:
    assert validation.optional_text("f", None, max_length=1) is None
    assert validation.email("f", None) is None
    assert validation.telephone("f", None) is None


def test_an_id_key_in_the_body_must_match_the_path() -> None:
    validation.same_id(1, None)
    validation.same_id(1, 1)
    with pytest.raises(InvalidCommandError) as refused:
        validation.same_id(1, 2)

    assert str(refused.value) == "id_key 2 in the body differs from 1 in the path"


def test_every_refusal_is_a_domain_error_with_a_code_and_a_message() -> None:
    errors: list[DomainError] = [
        NotFoundError("Order", 5),
        RuleViolationError("r", code="insufficient_stock"),
        ConflictError("c"),
        InvalidCommandError("f", "m"),
        DomainError("d"),
    ]

    assert [e.code for e in errors] == [
        "not_found",
        "insufficient_stock",
        "conflict",
        "invalid_field",
        "domain_error",
    ]
    assert [str(e) for e in errors] == ["Order with id 5 not found", "r", "c", "m", "d"]
    assert (errors[0].entity, errors[0].id_key) == ("Order", 5)  # type: ignore[attr-defined]
    assert errors[0].message == "Order with id 5 not found"
