"""Window store builders: Metered([Caching](ChangeLogging(bytes window store))), S3's StoreBuilder flags/defaults.

with_caching_enabled() adds the record-cache layer (pystreams.state.window.caching) except for stores that retain
duplicates (join windows), as Kafka does.
"""
from __future__ import annotations

from typing import Any

from pystreams.state.builder import StoreBuilder
from pystreams.state.window.caching import CachingWindowStore
from pystreams.state.window.logging import ChangeLoggingTimestampedWindowBytesStore, ChangeLoggingWindowBytesStore
from pystreams.state.window.metered import MeteredTimestampedWindowStore, MeteredWindowStore


class WindowStoreBuilder(StoreBuilder):
    """Builds WindowStore[K, V]."""

    _logging: Any = ChangeLoggingWindowBytesStore
    _metered: Any = MeteredWindowStore

    @property
    def retention_period_ms(self) -> int:
        return int(self.supplier.retention_period_ms)

    def build(self) -> Any:
        store: Any = self.supplier.get()
        if self.logging_enabled:
            store = self._logging(store, self.supplier.retain_duplicates)
        if self.caching_enabled and not self.supplier.retain_duplicates:
            time_ordered = getattr(self.supplier, "time_ordered", False)
            interval = self.supplier.segment_interval_ms if self.supplier.persistent and not time_ordered else 1
            store = CachingWindowStore(store, interval)
        return self._metered(store, self.supplier.metrics_scope, self.supplier.window_size_ms,
                             self.key_serde, self.value_serde)


class TimestampedWindowStoreBuilder(WindowStoreBuilder):
    """Builds TimestampedWindowStore[K, V] (values ValueAndTimestamp)."""

    _logging = ChangeLoggingTimestampedWindowBytesStore
    _metered = MeteredTimestampedWindowStore
