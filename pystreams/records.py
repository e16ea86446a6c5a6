"""Faust-compatible Record models under a short name: port a Faust model by replacing
``faust.Record`` / ``faust.models.fields`` with ``pystreams.records``."""
from __future__ import annotations

from pystreams.serdes.records import (
    TYPE_TO_FIELD,
    BooleanField,
    BytesField,
    CharField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    FrozenRecordError,
    IntegerField,
    NumberField,
    Record,
    StringField,
    ValidationError,
    field_for_type,
    maybe_model,
    registry,
)

__all__ = [
    "TYPE_TO_FIELD", "BooleanField", "BytesField", "CharField", "DatetimeField", "DecimalField",
    "FieldDescriptor", "FloatField", "FrozenRecordError", "IntegerField", "NumberField", "Record",
    "StringField", "ValidationError", "field_for_type", "maybe_model", "registry",
]
