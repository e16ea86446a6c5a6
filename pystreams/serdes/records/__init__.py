"""Faust-compatible typed Record models and the serdes built from them.
Imports only pystreams.errors and pystreams.serdes (leaf library)."""
from __future__ import annotations

from pystreams.serdes.records.field_classes import (
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
from pystreams.serdes.records.fields import TYPE_TO_FIELD, ValidationError, field_for_type
from pystreams.serdes.records.record import FrozenRecordError, Record
from pystreams.serdes.records.registry import maybe_model, registry

__all__ = [
    "TYPE_TO_FIELD", "BooleanField", "BytesField", "CharField", "DatetimeField", "DecimalField",
    "FieldDescriptor", "FloatField", "FrozenRecordError", "IntegerField", "NumberField", "Record",
    "StringField", "ValidationError", "field_for_type", "maybe_model", "registry",
]
