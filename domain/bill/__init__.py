"""Bill: a client's invoice, backing at most one order.

The bill stream records which order it backs (`BillAssigned` / `BillReleased`, appended with
the order's own events), so "a bill backs no other order" is decided from this stream alone.
The bill number is unique: the store enforces it through the `bill_number` claim.
"""

from domain.bill._decider import (
    KIND,
    NUMBER_MAX_LENGTH,
    BillState,
    decide,
    decider,
    evolve,
    require,
)
from domain.bill._decisions import change_bill, create_bill, delete_bill
from domain.bill._entity import (
    AGGREGATE,
    BILL_NUMBER,
    BILLS,
    BillChange,
    BillCreate,
    BillDocument,
    bill_documents,
    bill_number_claim,
)
from domain.bill._messages import (
    AssignBill,
    BillAssigned,
    BillChanged,
    BillCommand,
    BillCreated,
    BillDeleted,
    BillEvent,
    BillNumberChanged,
    BillReleased,
    ChangeBill,
    CreateBill,
    DeleteBill,
    ReleaseBill,
)

__all__ = [
    "AGGREGATE",
    "BILLS",
    "BILL_NUMBER",
    "KIND",
    "NUMBER_MAX_LENGTH",
    "AssignBill",
    "BillAssigned",
    "BillChange",
    "BillChanged",
    "BillCommand",
    "BillCreate",
    "BillCreated",
    "BillDeleted",
    "BillDocument",
    "BillEvent",
    "BillNumberChanged",
    "BillReleased",
    "BillState",
    "ChangeBill",
    "CreateBill",
    "DeleteBill",
    "ReleaseBill",
    "bill_documents",
    "bill_number_claim",
    "change_bill",
    "create_bill",
    "decide",
    "decider",
    "delete_bill",
    "evolve",
    "require",
]
