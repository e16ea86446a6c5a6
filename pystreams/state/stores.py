"""Stores: the factory for store suppliers and builders (Kafka's org.apache.kafka.streams.state.Stores)."""
from __future__ import annotations

from typing import Any

from pystreams.errors import TopologyError
from pystreams.state.builder import KeyValueStoreBuilder, TimestampedKeyValueStoreBuilder
from pystreams.state.internals.in_memory import InMemoryKeyValueStore
from pystreams.state.internals.rocksdb import RocksDBStore


class KeyValueBytesStoreSupplier:
    """Makes the innermost bytes store of a key-value store, one per task."""

    def __init__(self, name: str, metrics_scope: str, persistent: bool, timestamped: bool) -> None:
        if not isinstance(name, str) or not name:
            raise TopologyError(f"store name must be a non-empty string, got {name!r}")
        self.name = name
        self.metrics_scope = metrics_scope
        self.persistent = persistent
        self.timestamped = timestamped

    def get(self) -> Any:
        """A fresh bytes store."""
        if self.persistent:
            return RocksDBStore(self.name)
        return InMemoryKeyValueStore(self.name)

    def __repr__(self) -> str:
        return f"KeyValueBytesStoreSupplier({self.name!r}, {self.metrics_scope!r})"


class Stores:
    """Factory methods with Kafka's names, in snake_case."""

    @staticmethod
    def persistent_key_value_store(name: str) -> KeyValueBytesStoreSupplier:
        """RocksDB key-value store."""
        return KeyValueBytesStoreSupplier(name, "rocksdb", True, False)

    @staticmethod
    def persistent_timestamped_key_value_store(name: str) -> KeyValueBytesStoreSupplier:
        """RocksDB store meant for timestamped values (what the DSL materializes KTables into)."""
        return KeyValueBytesStoreSupplier(name, "rocksdb", True, True)

    @staticmethod
    def in_memory_key_value_store(name: str) -> KeyValueBytesStoreSupplier:
        """In-memory sorted store, restored from the changelog on start."""
        return KeyValueBytesStoreSupplier(name, "in-memory", False, False)

    @staticmethod
    def key_value_store_builder(supplier: KeyValueBytesStoreSupplier, key_serde: Any = None,
                                value_serde: Any = None) -> KeyValueStoreBuilder:
        """A builder for KeyValueStore[K, V]; serdes None = the app's default serdes."""
        return KeyValueStoreBuilder(supplier, key_serde, value_serde)

    @staticmethod
    def timestamped_key_value_store_builder(supplier: KeyValueBytesStoreSupplier, key_serde: Any = None,
                                            value_serde: Any = None) -> TimestampedKeyValueStoreBuilder:
        """A builder for TimestampedKeyValueStore[K, V] (values ValueAndTimestamp)."""
        return TimestampedKeyValueStoreBuilder(supplier, key_serde, value_serde)

    # ---- window stores (issue 5; pystreams.state.window)
    @staticmethod
    def persistent_window_store(name: str, retention_period: Any, window_size: Any,
                                retain_duplicates: bool = False) -> Any:
        """RocksDB window store in time segments of max(retention / 2, 60 s), old segments dropped whole."""
        from pystreams.state.window import stores as ws
        return ws.persistent_window_store(name, retention_period, window_size, retain_duplicates)

    @staticmethod
    def persistent_timestamped_window_store(name: str, retention_period: Any, window_size: Any,
                                            retain_duplicates: bool = False) -> Any:
        """RocksDB window store for ValueAndTimestamp values (what windowed aggregations use)."""
        from pystreams.state.window import stores as ws
        return ws.persistent_timestamped_window_store(name, retention_period, window_size, retain_duplicates)

    @staticmethod
    def in_memory_window_store(name: str, retention_period: Any, window_size: Any,
                               retain_duplicates: bool = False) -> Any:
        """In-memory window store, restored from its changelog."""
        from pystreams.state.window import stores as ws
        return ws.in_memory_window_store(name, retention_period, window_size, retain_duplicates)

    @staticmethod
    def window_store_builder(supplier: Any, key_serde: Any = None, value_serde: Any = None) -> Any:
        """A builder for WindowStore[K, V]."""
        from pystreams.state.window import stores as ws
        return ws.window_store_builder(supplier, key_serde, value_serde)

    @staticmethod
    def timestamped_window_store_builder(supplier: Any, key_serde: Any = None, value_serde: Any = None) -> Any:
        """A builder for TimestampedWindowStore[K, V] (values ValueAndTimestamp)."""
        from pystreams.state.window import stores as ws
        return ws.timestamped_window_store_builder(supplier, key_serde, value_serde)

    # ---- session stores (issue 5; pystreams.state.session)
    @staticmethod
    def persistent_session_store(name: str, retention_period: Any) -> Any:
        """RocksDB session store, segments by session end dropped whole after retention."""
        from pystreams.state import session
        return session.persistent_session_store(name, retention_period)

    @staticmethod
    def in_memory_session_store(name: str, retention_period: Any) -> Any:
        """In-memory session store."""
        from pystreams.state import session
        return session.in_memory_session_store(name, retention_period)

    @staticmethod
    def session_store_builder(supplier: Any, key_serde: Any = None, value_serde: Any = None) -> Any:
        """A builder for SessionStore[K, V]."""
        from pystreams.state import session
        return session.session_store_builder(supplier, key_serde, value_serde)
