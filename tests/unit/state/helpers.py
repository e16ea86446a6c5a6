"""Build a store stack with a bare StateStoreContext, capturing its changelog records."""
from __future__ import annotations

from typing import Any

from pystreams.processor import TaskId
from pystreams.serdes import Serdes
from pystreams.state import Stores
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import ThreadCache

BACKENDS = ["rocksdb", "in_memory"]


class StoreRig:
    """A store, its context, and the changelog records it sent (topic, key, value, ts, partition)."""

    def __init__(self, tmp_path: Any, backend: str, caching: bool = False, logging: bool = True,
                 timestamped: bool = False, key_serde: Any = None, value_serde: Any = None,
                 cache_bytes: int = 10 * 1024 * 1024, name: str = "store", task: TaskId = TaskId(0, 0)) -> None:
        self.changelog: list[tuple[str, bytes, bytes | None, int, int]] = []
        self.cache = ThreadCache(cache_bytes)
        self.context = StateStoreContext("app", task, str(tmp_path / "app" / str(task)),
                                         key_serde=Serdes.String(), value_serde=Serdes.String(),
                                         cache=self.cache, changelog_sender=self._send)
        if timestamped:
            supplier = (Stores.persistent_timestamped_key_value_store(name) if backend == "rocksdb"
                        else Stores.in_memory_key_value_store(name))
            builder: Any = Stores.timestamped_key_value_store_builder(supplier, key_serde, value_serde)
        else:
            supplier = (Stores.persistent_key_value_store(name) if backend == "rocksdb"
                        else Stores.in_memory_key_value_store(name))
            builder = Stores.key_value_store_builder(supplier, key_serde, value_serde)
        builder.with_caching_enabled() if caching else builder.with_caching_disabled()
        if not logging:
            builder.with_logging_disabled()
        self.builder = builder
        self.store = builder.build()
        self.store.init(self.context, self.store)

    def _send(self, topic: str, key: bytes, value: bytes | None, ts: int, partition: int,
              headers: tuple[tuple[str, bytes | None], ...] = ()) -> None:
        assert headers == (), "key-value changelog records carry no headers, as in Kafka"
        self.changelog.append((topic, key, value, ts, partition))

    def at(self, timestamp: int) -> None:
        """Pretend the record being processed has this timestamp."""
        self.context.record_context.timestamp = timestamp

    def restore_records(self) -> list[tuple[bytes, bytes | None, int, int]]:
        """The captured changelog as restore input (key, value, timestamp, offset)."""
        return [(k, v, ts, off) for off, (_t, k, v, ts, _p) in enumerate(self.changelog)]
