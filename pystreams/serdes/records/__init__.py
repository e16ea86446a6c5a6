"""Faust-compatible typed Record models and the serdes built from them.
Imports only pystreams.errors and pystreams.serdes (leaf library)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pystreams.serdes.records.fields import TYPE_TO_FIELD, ValidationError, field_for_type

if TYPE_CHECKING:  # see typing_stubs: `name: str = StringField(...)` must type-check
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
from pystreams.serdes.records.record import FrozenRecordError, Record
from pystreams.serdes.records.registry import maybe_model, registry

__all__ = [
    "TYPE_TO_FIELD", "BooleanField", "BytesField", "CharField", "DatetimeField", "DecimalField",
    "FieldDescriptor", "FloatField", "FrozenRecordError", "IntegerField", "NumberField", "Record",
    "StringField", "ValidationError", "field_for_type", "maybe_model", "registry",
]
