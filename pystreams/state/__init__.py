"""State stores: key-value stores (RocksDB, in-memory) built as layers over bytes, the record cache, restore.
Imports only pystreams.errors, pystreams.processor.record and pystreams.serdes (never graph/dsl/compiler/testing/
runtime)."""
from pystreams.state.api import (Change, KeyValue, KeyValueIterator, KeyValueStore, RestoreCallback, StateStore,
                                 TimestampedKeyValueStore, ValueAndTimestamp)
from pystreams.state.builder import KeyValueStoreBuilder, StoreBuilder, TimestampedKeyValueStoreBuilder
from pystreams.state.queryable import QueryableStoreTypes
from pystreams.state.stores import KeyValueBytesStoreSupplier, Stores
from pystreams.state.session import MeteredSessionStore, SessionBytesStoreSupplier, SessionStoreBuilder
from pystreams.state.window import (MeteredTimestampedWindowStore, MeteredWindowStore, TimestampedWindowStoreBuilder,
                                    WindowBytesStoreSupplier, WindowStoreBuilder)

__all__ = [
    "Change", "KeyValue", "KeyValueBytesStoreSupplier", "KeyValueIterator", "KeyValueStore", "KeyValueStoreBuilder",
    "QueryableStoreTypes", "RestoreCallback", "StateStore", "StoreBuilder", "Stores", "TimestampedKeyValueStore",
    "TimestampedKeyValueStoreBuilder", "ValueAndTimestamp",
    "MeteredTimestampedWindowStore", "MeteredWindowStore", "TimestampedWindowStoreBuilder", "WindowBytesStoreSupplier",
    "WindowStoreBuilder", "MeteredSessionStore", "SessionBytesStoreSupplier", "SessionStoreBuilder",
]
