"""An Avro schema from a Record class, so ``Serdes.Avro(Order, registry)`` needs no hand-written
schema: str/int/float/bool/bytes, Decimal (from DecimalField max_digits/max_decimal_places),
datetime (timestamp-micros), date, UUID, Optional, lists/sets/tuples, str-keyed dicts and nested
Records map to their Avro counterparts. Timestamps come back UTC-aware, as Avro defines them."""
from __future__ import annotations

import datetime as _dt
import decimal
import typing
import uuid
from collections import abc as cabc
from typing import Any

from pystreams.errors import SerdeError
from pystreams.serdes.records.coercion import is_record_type, unwrap_optional

_PRIMITIVES: dict[Any, Any] = {
    str: "string", int: "long", float: "double", bool: "boolean", bytes: "bytes",
    uuid.UUID: {"type": "string", "logicalType": "uuid"},
    _dt.datetime: {"type": "long", "logicalType": "timestamp-micros"},
    _dt.date: {"type": "int", "logicalType": "date"},
}
_LISTS = {list, set, frozenset, tuple, cabc.Sequence, cabc.MutableSequence, cabc.Set,
          cabc.MutableSet}
_MAPS = {dict, cabc.Mapping, cabc.MutableMapping}


def avro_schema(record_type: type) -> dict[str, Any]:
    """The Avro record schema of a Record class (nested Records defined once, then named)."""
    if not is_record_type(record_type):
        raise SerdeError(f"avro_schema needs a Record class, got {record_type!r}")
    return _record(record_type, set())  # type: ignore[return-value]


def _names(record_type: Any) -> tuple[str, str]:
    namespace = record_type._options.namespace
    module, _, name = namespace.rpartition(".")
    return name or record_type.__name__, module


def _record(record_type: Any, defined: set[str]) -> dict[str, Any] | str:
    if record_type._pending_:
        record_type.make_final()
    name, namespace = _names(record_type)
    full = f"{namespace}.{name}" if namespace else name
    if full in defined:
        return full
    defined.add(full)
    fields = []
    for field_name, descr in record_type._options.descriptors.items():
        if descr.exclude:
            continue
        entry: dict[str, Any] = {"name": descr.output_name,
                                 "type": _type(descr.type, descr, defined, field_name)}
        if descr.has_default and descr.default_factory is None:
            default = descr.default
            if default is None or isinstance(default, (bool, int, float, str)) \
                    or default in ([], {}):
                if default is None and isinstance(entry["type"], list):
                    entry["default"] = None
                elif default is not None:
                    entry["default"] = default
        fields.append(entry)
    schema: dict[str, Any] = {"type": "record", "name": name, "fields": fields}
    if namespace:
        schema["namespace"] = namespace
    return schema


def _type(tp: Any, descr: Any, defined: set[str], field: str) -> Any:
    inner, optional = unwrap_optional(tp)
    if optional:
        return ["null", _type(inner, descr, defined, field)]
    if tp in _PRIMITIVES:
        return _PRIMITIVES[tp]
    if isinstance(tp, type) and issubclass(tp, decimal.Decimal):
        precision = getattr(descr, "max_digits", None)
        scale = getattr(descr, "max_decimal_places", None)
        if precision is None or scale is None:
            raise SerdeError(f"field {field!r}: an Avro decimal needs a precision and a scale; "
                             f"declare it as DecimalField(max_digits=..., max_decimal_places=...)")
        return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    if is_record_type(tp):
        return _record(tp, defined)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in _LISTS:
        item = args[0] if args else Any
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise SerdeError(f"field {field!r}: fixed-length tuples have no Avro type")
        return {"type": "array", "items": _type(item, None, defined, field)}
    if origin in _MAPS:
        if args and args[0] is not str:
            raise SerdeError(f"field {field!r}: Avro maps have string keys, not {args[0]!r}")
        return {"type": "map", "values": _type(args[1] if args else Any, None, defined, field)}
    raise SerdeError(f"field {field!r}: no Avro type for {tp!r}")
