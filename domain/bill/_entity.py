"""Bills in the catalogue: their document, bodies and claims (see `domain.entity`)."""

import datetime as dt
from typing import Annotated, get_args

from pydantic import BaseModel, Field

from domain.bill._decider import KIND, BillState, decider
from domain.bill._decisions import SPECS
from domain.bill._messages import (
    BillCreated,
    BillDeleted,
    BillEvent,
    BillNumberChanged,
    ChangeBill,
    CreateBill,
    DeleteBill,
)
from domain.bodies import Body, Id, Money
from domain.claims import Claim, swap
from domain.client import ByClient
from domain.entity import Aggregate, Claims, Document, Entity
from domain.enums import PaymentType
from domain.events import Event

BILL_NUMBER = "bill_number"


class BillCreate(Body):
    bill_number: Annotated[str, Field(min_length=1, max_length=50)]
    discount: Money | None = None
    date: dt.date
    total: Money
    payment_type: PaymentType
    client_id: Id


class BillChange(Body):
    bill_number: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    discount: Money | None = None
    date: dt.date | None = None
    total: Money | None = None
    payment_type: PaymentType | None = None
    client_id: Id | None = None


class BillDocument(BaseModel):
    id_key: int
    bill_number: str
    discount: float | None
    date: dt.date
    total: float
    payment_type: PaymentType
    client_id: int


def bill_documents(state: BillState | None) -> list[Document]:
    if state is None or state.deleted:
        return []
    return [
        {
            "id_key": state.id_key,
            "bill_number": state.bill_number,
            "discount": None if state.discount is None else float(state.discount),
            "date": state.date.isoformat(),
            "total": float(state.total),
            "payment_type": int(state.payment_type),
            "client_id": state.client_id,
        }
    ]


def bill_number_claim(bill_number: str) -> Claim:
    return Claim(BILL_NUMBER, bill_number)


def claims_of(event: Event) -> Claims:
    match event:
        case BillCreated(bill_number=number):
            return [bill_number_claim(number)], []
        case BillNumberChanged(bill_number=number, previous_bill_number=previous):
            return swap([bill_number_claim(number)], [bill_number_claim(previous)])
        case BillDeleted(bill_number=number):
            return [], [bill_number_claim(number)]
        case _:
            return [], []


BILLS = Entity(
    "bills", "Bill", "Bills", KIND, "bill", bill_documents,
    BillDocument, BillCreate, BillChange,
    CreateBill, ChangeBill, DeleteBill,
    filters=ByClient,
    indexed=("client_id",),
    shapes=(("client_id",),),
)  # fmt: skip

AGGREGATE = Aggregate(
    KIND,
    decider,
    BillState,
    get_args(BillEvent),
    (BILLS,),
    SPECS,
    claims_of,
    {BILL_NUMBER: ("Bill with number {} already exists", "duplicate_bill_number")},
)
