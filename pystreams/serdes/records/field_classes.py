"""The field classes under the one name both checkers and the interpreter use: type checkers see the
functions of typing_stubs (so `name: str = StringField(...)` type-checks, PEP 681 field specifiers),
the interpreter the FieldDescriptor classes of fields.py."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pystreams.serdes.records.typing_stubs import (
        BooleanField,
        BytesField,
        CharField,
        DatetimeField,
        DecimalField,
        FieldDescriptor,
        FloatField,
        IntegerField,
        NumberField,
        StringField,
    )
else:
    from pystreams.serdes.records.fields import (
        BooleanField,
        BytesField,
        CharField,
        DatetimeField,
        DecimalField,
        FieldDescriptor,
        FloatField,
        IntegerField,
        NumberField,
        StringField,
    )

__all__ = [
    "BooleanField", "BytesField", "CharField", "DatetimeField", "DecimalField", "FieldDescriptor",
    "FloatField", "IntegerField", "NumberField", "StringField",
]
