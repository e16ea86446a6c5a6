"""``Serdes.from_record(Order)``: a Serde whose bytes are exactly what ``Order.dumps()`` writes
and what a Faust app with the same model reads."""
from __future__ import annotations

from typing import Generic, TypeVar

from pystreams.errors import SerdeError
from pystreams.serdes.base import Headers, Serde, SerializationError

T = TypeVar("T")


class RecordSerde(Serde[T], Generic[T]):
    """Encodes with the model's ``serializer`` (json by default) and loads with ``from_data``."""

    def __init__(self, record_type: type[T]) -> None:
        if not (isinstance(record_type, type) and getattr(record_type, "_pystreams_record_", False)):
            raise SerdeError(f"Serdes.from_record needs a Record subclass, got {record_type!r}")
        self.record_type = record_type

    def serialize(self, topic: str, data: T | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        if not getattr(data, "_pystreams_record_", False):
            raise SerializationError(f"{self!r} cannot serialize {type(data).__name__} for topic "
                                     f"{topic!r}: it takes {self.record_type.__name__} records")
        try:
            return data.dumps()  # type: ignore[attr-defined,no-any-return]
        except SerdeError as exc:
            raise SerializationError(f"topic {topic!r}: {exc}") from exc

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> T | None:
        if data is None:
            return None
        try:
            return self.record_type.loads(bytes(data))  # type: ignore[attr-defined,no-any-return]
        except SerdeError as exc:
            raise SerializationError(f"topic {topic!r}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - a model's own __post_init__ may raise anything
            raise SerializationError(f"topic {topic!r}: cannot load "
                                     f"{self.record_type.__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return f"RecordSerde({self.record_type.__name__})"


def record_serde(record_type: type[T]) -> Serde[T]:
    return RecordSerde(record_type)
