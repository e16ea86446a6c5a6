"""JSON serde on orjson: the common format for Python and JVM apps that share a topic."""
from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

import orjson

from pystreams.serdes.base import Headers, Serde, SerializationError


def json_default(obj: Any) -> Any:
    """Types orjson does not encode itself: Decimal as its exact text (like Faust), sets as lists,
    Record models as their representation."""
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    to_repr = getattr(obj, "to_representation", None)
    if callable(to_repr):
        return to_repr()
    raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")


class JsonSerde(Serde[Any]):
    """JSON text in UTF-8. With ``type`` (a msgspec Struct, dataclass, TypedDict, ...) the decoded
    value is converted and validated by msgspec, a Record class loads as that Record; otherwise
    plain dicts/lists come back."""

    def __init__(self, type: Any = None, *, sort_keys: bool = False,
                 default: Callable[[Any], Any] | None = None) -> None:
        self.type = type
        # UTC as "Z", like Faust's JSON codec and Record.dumps
        self._option = (orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
                        | (orjson.OPT_SORT_KEYS if sort_keys else 0))
        self._default = default or json_default
        self._decoder: Any = None
        self._record_loads: Any = None
        self._loads: Callable[[Any], Any] = orjson.loads
        if getattr(type, "_pystreams_record_", False):
            self._record_loads = self._loads = lambda data: type.from_data(orjson.loads(data))
        elif type is not None:
            import msgspec

            self._decoder = msgspec.json.Decoder(type)
            self._loads = self._decoder.decode

    def serialize(self, topic: str, data: Any, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        try:
            return orjson.dumps(data, default=self._default, option=self._option)
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise SerializationError(f"cannot encode {type(data).__name__} as JSON for topic "
                                     f"{topic!r}: {exc}") from exc

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Any:
        if data is None:
            return None
        try:
            return self._loads(data)
        except Exception as exc:  # orjson.JSONDecodeError, msgspec.DecodeError/ValidationError
            raise SerializationError(f"bytes from topic {topic!r} are not valid JSON"
                                     f"{' for ' + repr(self.type) if self.type else ''}: {exc}") \
                from exc

    def __repr__(self) -> str:
        return f"JsonSerde({self.type!r})" if self.type is not None else "JsonSerde()"
