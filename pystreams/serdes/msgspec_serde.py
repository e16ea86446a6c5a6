"""msgspec serdes: a Struct (or any type msgspec understands) validated and decoded in C, as
JSON or MessagePack; the fastest typed path for Python-only topics."""
from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from pystreams.errors import SerdeError
from pystreams.serdes.base import Headers, Serde, SerializationError

T = TypeVar("T")

_PROTOCOLS = {"json": msgspec.json, "msgpack": msgspec.msgpack}


class MsgspecSerde(Serde[T], Generic[T]):
    """``Serdes.msgspec(Order)``: encodes with msgspec, decodes straight into ``type``."""

    def __init__(self, type: type[T] | Any, protocol: str = "json") -> None:
        module = _PROTOCOLS.get(protocol)
        if module is None:
            raise SerdeError(f"msgspec protocol {protocol!r} is not one of json, msgpack")
        self.type = type
        self.protocol = protocol
        self._encoder = module.Encoder()
        try:
            self._decoder = module.Decoder(type)
        except TypeError as exc:
            raise SerdeError(f"msgspec cannot decode into {type!r}: {exc}") from exc

    def serialize(self, topic: str, data: T | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        try:
            return self._encoder.encode(data)
        except (TypeError, msgspec.EncodeError) as exc:
            raise SerializationError(f"cannot encode {type(data).__name__} with msgspec "
                                     f"{self.protocol} for topic {topic!r}: {exc}") from exc

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> T | None:
        if data is None:
            return None
        try:
            return self._decoder.decode(data)  # type: ignore[no-any-return]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise SerializationError(f"bytes from topic {topic!r} are not a valid "
                                     f"{getattr(self.type, '__name__', self.type)} "
                                     f"({self.protocol}): {exc}") from exc

    def __repr__(self) -> str:
        return f"MsgspecSerde({getattr(self.type, '__name__', self.type)}, {self.protocol!r})"
