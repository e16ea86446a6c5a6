"""Window store suppliers and builders with Kafka's Stores factory names and checks."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from pystreams.errors import TopologyError
from pystreams.state.window.builder import TimestampedWindowStoreBuilder, WindowStoreBuilder
from pystreams.state.window.in_memory import InMemoryWindowStore
from pystreams.state.window.segmented import RocksDBSegmentedWindowStore

MIN_SEGMENT_INTERVAL_MS = 60_000


def _ms(value: int | timedelta, what: str, name: str) -> int:
    ms = value // timedelta(milliseconds=1) if isinstance(value, timedelta) else value
    if not isinstance(ms, int) or isinstance(ms, bool):
        raise TopologyError(f"{what} of window store {name} must be int milliseconds or a timedelta, got {value!r}")
    if ms < 0:
        raise TopologyError(f"{what} cannot be negative (window store {name}), got {ms}")
    return ms


class WindowBytesStoreSupplier:
    """Makes the innermost bytes window store, one per task (Kafka's WindowBytesStoreSupplier)."""

    def __init__(self, name: str, retention_ms: int, window_size_ms: int, retain_duplicates: bool,
                 persistent: bool, timestamped: bool) -> None:
        if not isinstance(name, str) or not name:
            raise TopologyError(f"store name must be a non-empty string, got {name!r}")
        if window_size_ms > retention_ms:
            raise TopologyError(f"The retention period of the window store {name} must be no smaller than its "
                                f"window size. Got size=[{window_size_ms}], retention=[{retention_ms}]")
        self.name = name
        self.retention_period_ms = retention_ms
        self.window_size_ms = window_size_ms
        self.retain_duplicates = retain_duplicates
        self.persistent = persistent
        self.timestamped = timestamped
        self.segment_interval_ms = max(retention_ms // 2, MIN_SEGMENT_INTERVAL_MS)
        self.metrics_scope = "rocksdb-window" if persistent else "in-memory-window"
        self.time_ordered = False  # set for EmitStrategy.on_window_close stores (Kafka's time-ordered store)

    def get(self) -> Any:
        if self.persistent:
            return RocksDBSegmentedWindowStore(self.name, self.retention_period_ms, self.segment_interval_ms,
                                               self.window_size_ms, self.retain_duplicates, self.time_ordered)
        return InMemoryWindowStore(self.name, self.retention_period_ms, self.window_size_ms, self.retain_duplicates)

    def __repr__(self) -> str:
        return (f"WindowBytesStoreSupplier({self.name!r}, retention={self.retention_period_ms}, "
                f"size={self.window_size_ms}, duplicates={self.retain_duplicates})")


def persistent_window_store(name: str, retention_period: int | timedelta, window_size: int | timedelta,
                            retain_duplicates: bool = False) -> WindowBytesStoreSupplier:
    """RocksDB window store in time segments of max(retention / 2, 60 s)."""
    return WindowBytesStoreSupplier(name, _ms(retention_period, "retentionPeriod", name),
                                    _ms(window_size, "windowSize", name), retain_duplicates, True, False)


def persistent_timestamped_window_store(name: str, retention_period: int | timedelta, window_size: int | timedelta,
                                        retain_duplicates: bool = False) -> WindowBytesStoreSupplier:
    """RocksDB window store meant for ValueAndTimestamp values (what DSL windowed aggregations use)."""
    return WindowBytesStoreSupplier(name, _ms(retention_period, "retentionPeriod", name),
                                    _ms(window_size, "windowSize", name), retain_duplicates, True, True)


def in_memory_window_store(name: str, retention_period: int | timedelta, window_size: int | timedelta,
                           retain_duplicates: bool = False) -> WindowBytesStoreSupplier:
    """In-memory window store, restored from its changelog on start."""
    return WindowBytesStoreSupplier(name, _ms(retention_period, "retentionPeriod", name),
                                    _ms(window_size, "windowSize", name), retain_duplicates, False, False)


def window_store_builder(supplier: WindowBytesStoreSupplier, key_serde: Any = None,
                         value_serde: Any = None) -> WindowStoreBuilder:
    return WindowStoreBuilder(supplier, key_serde, value_serde)


def timestamped_window_store_builder(supplier: WindowBytesStoreSupplier, key_serde: Any = None,
                                     value_serde: Any = None) -> TimestampedWindowStoreBuilder:
    return TimestampedWindowStoreBuilder(supplier, key_serde, value_serde)
