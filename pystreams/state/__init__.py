"""State stores: key-value stores (RocksDB, in-memory) built as layers over bytes, the record cache, restore.
Imports only pystreams.errors, pystreams.processor.record and pystreams.serdes (never graph/dsl/compiler/testing/
runtime).

The store interfaces (pystreams.state.api) load with the package; builders, suppliers and the window/session stores
load on first use (module __getattr__), so a task without stores does not import RocksDB and every store kind.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pystreams.state.api import (
    Change,
    KeyValue,
    KeyValueIterator,
    KeyValueStore,
    RestoreCallback,
    StateStore,
    TimestampedKeyValueStore,
    ValueAndTimestamp,
)

if TYPE_CHECKING:
    from pystreams.state.builder import (
        KeyValueStoreBuilder,
        StoreBuilder,
        TimestampedKeyValueStoreBuilder,
    )
    from pystreams.state.queryable import QueryableStoreTypes
    from pystreams.state.session import (
        MeteredSessionStore,
        SessionBytesStoreSupplier,
        SessionStoreBuilder,
    )
    from pystreams.state.stores import KeyValueBytesStoreSupplier, Stores
    from pystreams.state.window import (
        MeteredTimestampedWindowStore,
        MeteredWindowStore,
        TimestampedWindowStoreBuilder,
        WindowBytesStoreSupplier,
        WindowStoreBuilder,
    )

# public name -> the module that defines it, imported on first access
_LAZY: dict[str, str] = {
    "KeyValueStoreBuilder": "pystreams.state.builder",
    "StoreBuilder": "pystreams.state.builder",
    "TimestampedKeyValueStoreBuilder": "pystreams.state.builder",
    "QueryableStoreTypes": "pystreams.state.queryable",
    "KeyValueBytesStoreSupplier": "pystreams.state.stores",
    "Stores": "pystreams.state.stores",
    "MeteredSessionStore": "pystreams.state.session",
    "SessionBytesStoreSupplier": "pystreams.state.session",
    "SessionStoreBuilder": "pystreams.state.session",
    "MeteredTimestampedWindowStore": "pystreams.state.window",
    "MeteredWindowStore": "pystreams.state.window",
    "TimestampedWindowStoreBuilder": "pystreams.state.window",
    "WindowBytesStoreSupplier": "pystreams.state.window",
    "WindowStoreBuilder": "pystreams.state.window",
}

__all__ = [
    "Change",
    "KeyValue",
    "KeyValueBytesStoreSupplier",
    "KeyValueIterator",
    "KeyValueStore",
    "KeyValueStoreBuilder",
    "MeteredSessionStore",
    "MeteredTimestampedWindowStore",
    "MeteredWindowStore",
    "QueryableStoreTypes",
    "RestoreCallback",
    "SessionBytesStoreSupplier",
    "SessionStoreBuilder",
    "StateStore",
    "StoreBuilder",
    "Stores",
    "TimestampedKeyValueStore",
    "TimestampedKeyValueStoreBuilder",
    "TimestampedWindowStoreBuilder",
    "ValueAndTimestamp",
    "WindowBytesStoreSupplier",
    "WindowStoreBuilder",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pystreams.state' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
