"""The original API's enumerations; they travel as integers."""

from enum import IntEnum


class DeliveryMethod(IntEnum):
    DRIVE_THRU = 1
    ON_HAND = 2
    HOME_DELIVERY = 3


class Status(IntEnum):
    PENDING = 1
    IN_PROGRESS = 2
    DELIVERED = 3
    CANCELED = 4


class PaymentType(IntEnum):
    CASH = 1
    CARD = 2
    DEBIT = 3
    CREDIT = 4
    BANK_TRANSFER = 5
