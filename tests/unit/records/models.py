"""Record models shared by the records tests (module level, so namespaces are stable)."""
from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Optional

from pystreams.serdes import Record
from pystreams.serdes.records import DecimalField, IntegerField, StringField


class Item(Record, serializer="json"):
    name: str
    qty: int = 1


class Order(Record, serializer="json"):
    id: str
    amount: Decimal
    placed_at: dt.datetime
    items: list[Item] = []
    ref: Optional[uuid.UUID] = None


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Everything(Record, serializer="json"):
    text: str
    number: int
    ratio: float
    flag: bool
    money: Decimal
    when: dt.datetime
    day: dt.date
    ident: uuid.UUID
    color: Color
    blob: bytes
    maybe: Optional[int]
    tags: set[str]
    pair: tuple[int, str]
    by_name: dict[str, Item]
    nested: Optional[Item] = None
    numbers: list[Decimal] = []
    items_by_id: dict[uuid.UUID, list[Item]] = {}


class Account(Record, validation=True):
    name: str = StringField(max_length=10, min_length=2)
    balance: Decimal = DecimalField(max_digits=8, max_decimal_places=2, min_value=Decimal("0"))
    age: int = IntegerField(min_value=18, max_value=130, required=False, default=30)


class Shape(Record, abstract=True, polymorphic_fields=True):
    pass


class Circle(Shape, namespace="test.Circle"):
    radius: float


class Square(Shape, namespace="test.Square"):
    side: float


class Drawing(Record):
    shapes: list[Shape]
    main: Shape | None = None


class Node(Record):
    value: int
    children: list[Node] = []
