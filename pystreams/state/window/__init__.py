"""Window stores (Kafka's WindowStore): values per (key, window start), expired by retention.

Bytes level: InMemoryWindowStore and RocksDBSegmentedWindowStore (time segments as key ranges of one
RocksDB, range deleted whole);
layers: change-logging (Kafka's changelog key = key + 8-byte start + 4-byte seqnum) and metered (typed).
Build them with the factories in pystreams.state.window.stores (also exported from pystreams.state).
"""
from pystreams.state.window.builder import TimestampedWindowStoreBuilder, WindowStoreBuilder
from pystreams.state.window.stores import (WindowBytesStoreSupplier, in_memory_window_store, persistent_timestamped_window_store,
                                           persistent_window_store, timestamped_window_store_builder,
                                           window_store_builder)
from pystreams.state.window.metered import MeteredTimestampedWindowStore, MeteredWindowStore

__all__ = ["MeteredTimestampedWindowStore", "MeteredWindowStore", "TimestampedWindowStoreBuilder",
           "WindowBytesStoreSupplier", "WindowStoreBuilder", "in_memory_window_store",
           "persistent_timestamped_window_store", "persistent_window_store", "timestamped_window_store_builder",
           "window_store_builder"]
