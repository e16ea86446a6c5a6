"""Record body codecs by Faust's names (``serializer="json"``, ``"raw"``, ``"binary"``, chains
like ``"json|binary"``) plus ``"msgpack"``; JSON output matches Faust's (orjson, UTC as ``Z``,
Decimal and UUID as text) so Faust apps and pystreams apps read each other's records."""
from __future__ import annotations

import base64
import datetime as _dt
import decimal
import enum
import functools
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from pystreams.errors import SerdeError

JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


def json_default(obj: Any) -> Any:
    """What orjson cannot encode by itself, encoded the way Faust's JSON codec does."""
    rep = getattr(obj, "to_representation", None)
    if rep is not None and getattr(obj, "_pystreams_record_", False):
        return rep()
    if isinstance(obj, (decimal.Decimal, uuid.UUID)):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        try:
            return obj.decode()
        except UnicodeDecodeError as exc:
            raise TypeError("bytes that are not UTF-8 cannot be JSON text; use "
                            "serializer='msgpack' or 'json|binary'") from exc
    if isinstance(obj, _dt.date):
        return _dt.datetime(obj.year, obj.month, obj.day).isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    to_json = getattr(obj, "__json__", None)
    if to_json is not None:
        return to_json()
    raise TypeError(f"JSON cannot serialize {type(obj).__name__!r}: {obj!r}")


def _json_dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=json_default, option=JSON_OPTIONS)


def _msgpack_dumps(obj: Any) -> bytes:
    import msgspec

    return msgspec.msgpack.encode(obj, enc_hook=json_default)


def _msgpack_loads(data: bytes) -> Any:
    import msgspec

    return msgspec.msgpack.decode(data)


def _raw_dumps(obj: Any) -> bytes:
    if isinstance(obj, str):
        return obj.encode()
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    raise TypeError(f"the raw codec takes bytes or str, not {type(obj).__name__}")


CODECS: dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "json": (_json_dumps, orjson.loads),
    "msgpack": (_msgpack_dumps, _msgpack_loads),
    "binary": (lambda b: base64.b64encode(_raw_dumps(b)), base64.b64decode),
    "raw": (_raw_dumps, lambda b: b),
}


def register(name: str, encode: Callable[[Any], bytes], decode: Callable[[bytes], Any]) -> None:
    """Add a codec usable as ``serializer=name`` (Faust's ``codecs.register``)."""
    if "|" in name or not name:
        raise SerdeError(f"codec name {name!r} must be non-empty and contain no '|'")
    CODECS[name] = (encode, decode)
    _chain.cache_clear()


@functools.lru_cache(maxsize=64)
def _chain(name: str) -> tuple[tuple[Callable[[Any], bytes], Callable[[bytes], Any]], ...]:
    parts = [p.strip() for p in name.split("|")]
    out = []
    for part in parts:
        if part == "pickle":
            raise SerdeError("serializer 'pickle' is not supported: unpickling topic data runs "
                             "arbitrary code; use 'json' or 'msgpack'")
        if part not in CODECS:
            raise SerdeError(f"unknown serializer {part!r}; use one of "
                             f"{', '.join(sorted(CODECS))} or a chain like 'json|binary'")
        out.append(CODECS[part])
    return tuple(out)


def dumps(codec: str | None, obj: Any) -> bytes:
    """Encode ``obj`` with a codec name (Faust's codecs.dumps); None means json."""
    if codec is None or codec == "json":
        return orjson.dumps(obj, default=json_default, option=JSON_OPTIONS)
    data: Any = obj
    for encode, _ in _chain(codec or "json"):
        data = encode(data)
    return data  # type: ignore[no-any-return]


def loads(codec: str | None, data: bytes) -> Any:
    """Decode bytes with a codec name (Faust's codecs.loads); None means json."""
    if codec is None or codec == "json":
        return orjson.loads(data)
    value: Any = data
    for _, decode in reversed(_chain(codec or "json")):
        value = decode(value)
    return value
