"""The same models twice: once with faust-streaming's Record, once with ours (same namespaces),
for the interop tests. A Faust user ports a model by changing only the import, as here."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Dict, List, Optional  # noqa: UP035 - Faust's own docs spell it this way

import faust
from faust.models.fields import DecimalField as FaustDecimalField
from faust.models.fields import StringField as FaustStringField

from pystreams.serdes import Record
from pystreams.serdes.records import DecimalField, StringField


class FItem(faust.Record, serializer="json", namespace="shop.Item"):
    name: str
    qty: int = 1


class FOrder(faust.Record, serializer="json", namespace="shop.Order", isodates=True,
             decimals=True):
    id: str
    amount: Decimal
    placed_at: dt.datetime
    items: List[FItem] = []  # noqa: RUF012
    ref: Optional[uuid.UUID] = None
    notes: Dict[str, str] = {}  # noqa: RUF012
    discount: Optional[Decimal] = None


class FAccount(faust.Record, serializer="json", namespace="shop.Account", validation=True):
    name: str = FaustStringField(max_length=10)
    balance: Decimal = FaustDecimalField(max_decimal_places=2)


class Item(Record, serializer="json", namespace="shop.Item"):
    name: str
    qty: int = 1


class Order(Record, serializer="json", namespace="shop.Order", isodates=True, decimals=True):
    id: str
    amount: Decimal
    placed_at: dt.datetime
    items: List[Item] = []  # noqa: RUF012
    ref: Optional[uuid.UUID] = None
    notes: Dict[str, str] = {}  # noqa: RUF012
    discount: Optional[Decimal] = None


class Account(Record, serializer="json", namespace="shop.Account", validation=True):
    name: str = StringField(max_length=10)
    balance: Decimal = DecimalField(max_decimal_places=2)


class FShape(faust.Record, abstract=True, polymorphic_fields=True):
    pass


class FCircle(FShape, namespace="geo.Circle"):
    radius: float


class FSquare(FShape, namespace="geo.Square"):
    side: float


class FDrawing(faust.Record, serializer="json", namespace="geo.Drawing"):
    shapes: List[FShape]  # noqa: UP006


class Shape(Record, abstract=True, polymorphic_fields=True):
    pass


class Circle(Shape, namespace="geo.Circle"):
    radius: float


class Square(Shape, namespace="geo.Square"):
    side: float


class Drawing(Record, namespace="geo.Drawing"):
    shapes: List[Shape]  # noqa: UP006
