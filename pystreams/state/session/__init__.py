"""Session stores (Kafka's SessionStore): aggregates per Windowed(key, SessionWindow(start, end)), expired by
retention on session end. In memory and on RocksDB (segments by end time: key ranges of one RocksDB,
range deleted whole)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from pystreams.errors import TopologyError
from pystreams.state.session.in_memory import InMemorySessionStore
from pystreams.state.session.layers import MeteredSessionStore, SessionStoreBuilder
from pystreams.state.session.segmented import RocksDBSegmentedSessionStore


class SessionBytesStoreSupplier:
    """Makes the innermost bytes session store, one per task."""

    def __init__(self, name: str, retention_ms: int, persistent: bool) -> None:
        if not isinstance(name, str) or not name:
            raise TopologyError(f"store name must be a non-empty string, got {name!r}")
        self.name = name
        self.retention_period_ms = retention_ms
        self.persistent = persistent
        self.segment_interval_ms = max(retention_ms // 2, 60_000)
        self.metrics_scope = "rocksdb-session" if persistent else "in-memory-session"

    def get(self) -> Any:
        if self.persistent:
            return RocksDBSegmentedSessionStore(self.name, self.retention_period_ms, self.segment_interval_ms)
        return InMemorySessionStore(self.name, self.retention_period_ms)


def _ms(value: int | timedelta, name: str) -> int:
    ms = value // timedelta(milliseconds=1) if isinstance(value, timedelta) else value
    if not isinstance(ms, int) or ms < 0:
        raise TopologyError(f"retentionPeriod of session store {name} must be non-negative milliseconds, got {value!r}")
    return ms


def persistent_session_store(name: str, retention_period: int | timedelta) -> SessionBytesStoreSupplier:
    return SessionBytesStoreSupplier(name, _ms(retention_period, name), True)


def in_memory_session_store(name: str, retention_period: int | timedelta) -> SessionBytesStoreSupplier:
    return SessionBytesStoreSupplier(name, _ms(retention_period, name), False)


def session_store_builder(supplier: SessionBytesStoreSupplier, key_serde: Any = None,
                          value_serde: Any = None) -> SessionStoreBuilder:
    return SessionStoreBuilder(supplier, key_serde, value_serde)


__all__ = ["InMemorySessionStore", "MeteredSessionStore", "RocksDBSegmentedSessionStore", "SessionBytesStoreSupplier",
           "SessionStoreBuilder", "in_memory_session_store", "persistent_session_store", "session_store_builder"]
