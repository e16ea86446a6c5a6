"""pystreams: Kafka Streams for Python, with its own Kafka-compatible broker included.

The public DSL names (StreamsBuilder, Topology, Serdes, ...) are re-exported here, lazily: a name
from a part of the library that is not installed/landed yet fails only when it is used.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "StreamsBuilder": "pystreams.dsl",
    "KStream": "pystreams.dsl",
    "KTable": "pystreams.dsl",
    "GlobalKTable": "pystreams.dsl",
    "KGroupedStream": "pystreams.dsl",
    "KGroupedTable": "pystreams.dsl",
    "BranchedKStream": "pystreams.dsl",
    "Consumed": "pystreams.dsl",
    "Produced": "pystreams.dsl",
    "Materialized": "pystreams.dsl",
    "Grouped": "pystreams.dsl",
    "Named": "pystreams.dsl",
    "Repartitioned": "pystreams.dsl",
    "Branched": "pystreams.dsl",
    "Printed": "pystreams.dsl",
    "KeyValue": "pystreams.dsl",
    "Topology": "pystreams.compiler",
    "TopologyDescription": "pystreams.compiler",
    "Serdes": "pystreams.serdes",
    "Serde": "pystreams.serdes",
    "Record": "pystreams.serdes",
    "Stores": "pystreams.state",
    "TimeWindows": "pystreams.dsl.windows",
    "JoinWindows": "pystreams.dsl.windows",
    "SessionWindows": "pystreams.dsl.windows",
    "SlidingWindows": "pystreams.dsl.windows",
    "Suppressed": "pystreams.dsl.windows",
    "EmitStrategy": "pystreams.dsl.windows",
    "BufferConfig": "pystreams.dsl.windows",
    "StreamJoined": "pystreams.dsl.joins",
    "Joined": "pystreams.dsl.joins",
    "Windowed": "pystreams.serdes.windowed",
    "WindowedSerdes": "pystreams.serdes.windowed",
    "TimeWindow": "pystreams.serdes.windowed",
    "SessionWindow": "pystreams.serdes.windowed",
    "KafkaStreams": "pystreams.runtime",
    "StreamsConfig": "pystreams.runtime",
    "CloseOptions": "pystreams.runtime",
    "StoreQueryParameters": "pystreams.runtime",
    "StateRestoreListener": "pystreams.runtime",
    "StandbyUpdateListener": "pystreams.runtime",
}

if TYPE_CHECKING:
    from pystreams.compiler import Topology, TopologyDescription
    from pystreams.dsl import (Branched, BranchedKStream, Consumed, GlobalKTable, Grouped, KeyValue,
                               KGroupedStream, KGroupedTable, KStream, KTable, Materialized, Named,
                               Printed, Produced, Repartitioned, StreamsBuilder)
    from pystreams.dsl.joins import Joined, StreamJoined
    from pystreams.dsl.windows import (BufferConfig, EmitStrategy, JoinWindows, SessionWindows, SlidingWindows,
                                       Suppressed, TimeWindows)
    from pystreams.serdes.windowed import SessionWindow, TimeWindow, Windowed, WindowedSerdes
    from pystreams.runtime import (CloseOptions, KafkaStreams, StandbyUpdateListener, StateRestoreListener,
                                   StoreQueryParameters, StreamsConfig)
    from pystreams.serdes import Serde, Serdes
    from pystreams.state import Stores

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pystreams' has no attribute {name!r}")
    if module_name.startswith("pystreams.dsl"):
        importlib.import_module("pystreams.compiler")  # registers the compiler StreamsBuilder.build() uses
    try:
        module = importlib.import_module(module_name)
        value = getattr(module, name)
    except (ImportError, AttributeError) as exc:
        raise AttributeError(f"pystreams.{name} is not available yet ({module_name}: {exc})") from exc
    globals()[name] = value
    return value
