"""Serdes: Kafka's built-in serdes with Java's byte formats, JSON/msgspec/Avro, Record models.
Imports nothing from pystreams but pystreams.errors (a leaf library under compiler and testing)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pystreams.serdes.base import (
    Deserializer,
    Headers,
    SerializationError,
    Serde,
    Serializer,
    WrapperSerde,
)
from pystreams.serdes.factory import Serdes
from pystreams.serdes.handlers import (
    DeserializationExceptionHandler,
    DeserializationHandlerResponse,
    LogAndContinueExceptionHandler,
    LogAndFailExceptionHandler,
)
from pystreams.serdes.json import JsonSerde
from pystreams.serdes.resolve import resolve_serde

if TYPE_CHECKING:
    from pystreams.serdes.records import Record

__all__ = [
    "DeserializationExceptionHandler", "DeserializationHandlerResponse", "Deserializer", "Headers",
    "JsonSerde", "LogAndContinueExceptionHandler", "LogAndFailExceptionHandler", "Record",
    "SerializationError", "Serde", "Serdes", "Serializer", "WrapperSerde", "resolve_serde",
]


def __getattr__(name: str) -> Any:
    # Record models load on first use so `import pystreams.serdes` stays cheap.
    if name == "Record":
        from pystreams.serdes.records import Record

        return Record
    raise AttributeError(f"module 'pystreams.serdes' has no attribute {name!r}")
