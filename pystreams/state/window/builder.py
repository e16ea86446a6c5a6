"""Window store builders: Metered(ChangeLogging(bytes window store)), S3's StoreBuilder flags and defaults.

No caching layer yet: with_caching_enabled() is recorded (Kafka's default for DSL stores) but every update is
forwarded and written directly, which equals Kafka's output when a commit follows every record (the test driver)
but not its de-duplication between commits.
"""
from __future__ import annotations

from typing import Any

from pystreams.state.builder import StoreBuilder
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
        return self._metered(store, self.supplier.metrics_scope, self.supplier.window_size_ms,
                             self.key_serde, self.value_serde)


class TimestampedWindowStoreBuilder(WindowStoreBuilder):
    """Builds TimestampedWindowStore[K, V] (values ValueAndTimestamp)."""

    _logging = ChangeLoggingTimestampedWindowBytesStore
    _metered = MeteredTimestampedWindowStore
