"""Converts between the codec's dict bodies and kio's generated dataclasses, so PyPI `kio` (an
independent implementation generated from Kafka's schemas) can serve as a test oracle.

Fields are paired by position (both follow the order of Kafka's JSON) and the names are checked
to agree, allowing for kio's renames of time fields (TimeoutMs -> timeout, as a timedelta)."""
from __future__ import annotations

import dataclasses
import datetime
import io
import types
import typing
import uuid
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode as KioErrorCode
from kio.serial import entity_reader, entity_writer

from pystreams.broker.protocol.schema import ZERO_UUID, F, in_range

KIO_ERROR_CODES = sorted(int(c.value) for c in KioErrorCode)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Unrepresentable(Exception):
    """A value kio's typed model cannot hold (e.g. a negative timestamp); the example is skipped."""


def kio_class(key: int, version: int, response: bool) -> type:
    return load_response_schema(key, version) if response else load_request_schema(key, version)


def _pairs(cls: type, fields: tuple[F, ...], version: int) -> list[tuple[dataclasses.Field[Any], F]]:
    ours = [f for f in fields if in_range(version, f.versions)]
    theirs = list(dataclasses.fields(cls))
    if len(ours) != len(theirs):
        raise AssertionError(f"{cls.__qualname__} v{version}: kio has {[t.name for t in theirs]}, "
                             f"we have {[f.name for f in ours]}")
    for t, f in zip(theirs, ours):
        kt = t.metadata.get("kafka_type", "")
        ok = t.name == f.name or (kt.startswith(("timedelta", "datetime")) and
                                  f.name in (t.name + "_ms", t.name))
        if not ok:
            raise AssertionError(f"{cls.__qualname__} v{version}: kio field {t.name} vs ours {f.name}")
    return list(zip(theirs, ours))


def _inner(hint: Any) -> Any:
    """The entity class inside tuple[X, ...] / X | None annotations."""
    args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis]
    if typing.get_origin(hint) in (tuple, types.UnionType, typing.Union) and args:
        return _inner(args[0])
    return hint


def to_kio(cls: type, fields: tuple[F, ...], version: int, body: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for t, f in _pairs(cls, fields, version):
        kwargs[t.name] = _to_kio_value(t, f, _inner(hints[t.name]), version, body[f.name], False)
    return cls(**kwargs)


def _to_kio_value(t: dataclasses.Field[Any], f: F, sub: Any, version: int, v: Any, elem: bool) -> Any:
    if v is None:
        return None
    if f.is_array and not elem:
        return tuple(_to_kio_value(t, f, sub, version, x, True) for x in v)
    if f.fields is not None:
        return to_kio(sub, f.fields, version, v)
    kt = t.metadata.get("kafka_type", "")
    if kt == "error_code":
        return KioErrorCode(v)
    if kt.startswith("timedelta"):
        try:
            return datetime.timedelta(milliseconds=v)
        except OverflowError:
            raise Unrepresentable(f"{f.name}={v}") from None
    if kt == "datetime_i64":
        if v < 0:
            if v == -1 and (in_range(version, f.nullable) or _nullable_hint(t)):
                return None
            raise Unrepresentable(f"{f.name}={v}")
        try:
            return EPOCH + datetime.timedelta(milliseconds=v)
        except OverflowError:
            raise Unrepresentable(f"{f.name}={v}") from None
    if kt == "uuid" and v == ZERO_UUID:
        return None
    if kt in ("bytes", "records"):
        return bytes(v)
    return v


def _nullable_hint(t: dataclasses.Field[Any]) -> bool:
    return "None" in str(t.type)


def from_kio(obj: Any, fields: tuple[F, ...], version: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t, f in _pairs(type(obj), fields, version):
        out[f.name] = _from_kio_value(t, f, version, getattr(obj, t.name), False)
    return out


def _from_kio_value(t: dataclasses.Field[Any], f: F, version: int, v: Any, elem: bool) -> Any:
    if f.is_array and not elem:
        return None if v is None else [_from_kio_value(t, f, version, x, True) for x in v]
    if f.fields is not None:
        return None if v is None else from_kio(v, f.fields, version)
    kt = t.metadata.get("kafka_type", "")
    if v is None:
        if kt == "uuid":
            return ZERO_UUID
        if kt == "datetime_i64":
            return -1
        return None
    if isinstance(v, datetime.datetime):
        return round((v - EPOCH) / datetime.timedelta(milliseconds=1))
    if isinstance(v, datetime.timedelta):
        return round(v / datetime.timedelta(milliseconds=1))
    if isinstance(v, KioErrorCode):
        return int(v.value)
    if isinstance(v, uuid.UUID):
        return v
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, bytes):
        return bytes(v)
    return v


def kio_encode(obj: Any) -> bytes:
    buf = io.BytesIO()
    entity_writer(type(obj))(buf, obj)
    return buf.getvalue()


def kio_decode(cls: type, raw: bytes) -> Any:
    value, size = entity_reader(cls)(raw, 0)
    return value, size
