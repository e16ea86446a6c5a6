"""Per-class Record options (Faust's ModelOptions): the class keywords plus the indexes computed
once when the class is finalized, so per-record work does no introspection."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordOptions:
    """What ``class X(Record, serializer=..., ...)`` asked for, and the field indexes."""

    serializer: str | None = None
    namespace: str = ""
    include_metadata: bool = True
    polymorphic_fields: bool = False
    allow_blessed_key: bool = False
    isodates: bool = False
    decimals: bool = False
    validation: bool = False
    coerce: bool = False
    coercions: dict[Any, Callable[[Any], Any]] = field(default_factory=dict)
    date_parser: Callable[[Any], _dt.datetime] | None = None
    frozen: bool = False

    # indexes, filled when the class is finalized
    fields: dict[str, Any] = field(default_factory=dict)          # name -> type
    fieldset: frozenset[str] = frozenset()
    fieldpos: dict[int, str] = field(default_factory=dict)        # position -> name
    optionalset: frozenset[str] = frozenset()
    defaults: dict[str, Any] = field(default_factory=dict)        # name -> default value
    descriptors: dict[str, Any] = field(default_factory=dict)     # name -> FieldDescriptor

    def clone_defaults(self) -> RecordOptions:
        """A subclass starts from its parent's options (not its indexes)."""
        return RecordOptions(
            serializer=self.serializer, namespace=self.namespace,
            include_metadata=self.include_metadata, polymorphic_fields=self.polymorphic_fields,
            allow_blessed_key=self.allow_blessed_key, isodates=self.isodates,
            decimals=self.decimals, validation=self.validation, coerce=self.coerce,
            coercions=dict(self.coercions), date_parser=self.date_parser, frozen=self.frozen)
