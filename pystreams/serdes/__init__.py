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
    from pystreams.serdes.avro import AvroSerde
    from pystreams.serdes.list_serde import ListSerde
    from pystreams.serdes.msgspec_serde import MsgspecSerde
    from pystreams.serdes.records import Record
    from pystreams.serdes.schema_registry import InMemorySchemaRegistry, SchemaRegistryClient

__all__ = [
    "AvroSerde", "DeserializationExceptionHandler", "DeserializationHandlerResponse",
    "Deserializer", "Headers", "InMemorySchemaRegistry", "JsonSerde", "ListSerde",
    "LogAndContinueExceptionHandler", "LogAndFailExceptionHandler", "MsgspecSerde", "Record",
    "SchemaRegistryClient", "SerializationError", "Serde", "Serdes", "Serializer", "WrapperSerde",
    "resolve_serde", "Windowed", "WindowedSerdes", "TimeWindow", "SessionWindow",
]

# Loaded on first use so `import pystreams.serdes` stays cheap.
_LAZY = {
    "Record": "pystreams.serdes.records",
    "AvroSerde": "pystreams.serdes.avro",
    "ListSerde": "pystreams.serdes.list_serde",
    "MsgspecSerde": "pystreams.serdes.msgspec_serde",
    "InMemorySchemaRegistry": "pystreams.serdes.schema_registry",
    "SchemaRegistryClient": "pystreams.serdes.schema_registry",
    "Windowed": "pystreams.serdes.windowed",
    "WindowedSerdes": "pystreams.serdes.windowed",
    "TimeWindow": "pystreams.serdes.windowed",
    "SessionWindow": "pystreams.serdes.windowed",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pystreams.serdes' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
