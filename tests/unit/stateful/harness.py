"""A minimal in-test processor context and timestamped store for driving stateful processors directly.

The real engine (pystreams.processor.internals) and TopologyTestDriver are tested in their own rooms; this
harness only records forwards and keeps a dict store, so each processor's own semantics can be pinned down.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import Change, ValueAndTimestamp
from pystreams.processor import Record, RecordMetadata


class DictTimestampedStore:
    """Timestamped key-value store on a dict; put(key, None) deletes (Kafka's contract)."""

    def __init__(self, name: str, caching: bool = False) -> None:
        self.name = name
        self.data: dict[Any, Any] = {}
        self.caching = caching
        self.listener: Callable[[Record[Any, Any]], None] | None = None
        self.send_old_values = False
        self._dirty: dict[Any, tuple[Any, int]] = {}

    def get(self, key: Any) -> Any:
        if key in self._dirty:
            return self._dirty[key][0]
        return self.data.get(key)

    def put(self, key: Any, value: Any) -> None:
        assert value is None or isinstance(value, ValueAndTimestamp), value
        if self.caching:
            self._dirty[key] = (value, -1 if value is None else value.timestamp)
        elif value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value

    def set_flush_listener(self, listener: Callable[[Record[Any, Any]], None], send_old_values: bool) -> bool:
        self.listener = listener
        self.send_old_values = send_old_values
        return self.caching

    def flush(self, timestamp_of_deletes: int = 0) -> None:
        """Kafka's cache flush: per dirty key, write through and hand Change(new, old) to the listener."""
        dirty, self._dirty = self._dirty, {}
        for key, (new, _ts) in dirty.items():
            old = self.data.get(key) if new is None or self.send_old_values else None
            if new is None and old is None:
                continue
            if new is None:
                self.data.pop(key, None)
            else:
                self.data[key] = new
            assert self.listener is not None
            ts = new.timestamp if new is not None else timestamp_of_deletes
            self.listener(Record(key, Change(new, old if self.send_old_values else None), ts))

    def plain(self) -> dict[Any, Any]:
        """key -> value, without timestamps."""
        return {k: v.value for k, v in self.data.items()}


class FakeContext:
    """Records what a processor forwards; hands out the stores it was given."""

    def __init__(self, *stores: DictTimestampedStore, configs: dict[str, Any] | None = None) -> None:
        self.stores = {s.name: s for s in stores}
        self.forwarded: list[Record[Any, Any]] = []
        self.configs = configs or {}
        self.metadata: RecordMetadata | None = RecordMetadata("input", 0, 0)

    def forward(self, record: Record[Any, Any], child_name: str | None = None) -> None:
        self.forwarded.append(record)

    def get_state_store(self, name: str) -> Any:
        return self.stores.get(name)

    def app_configs(self) -> dict[str, Any]:
        return self.configs

    def record_metadata(self) -> RecordMetadata | None:
        return self.metadata

    def current_stream_time_ms(self) -> int:
        return 0

    def take(self) -> list[tuple[Any, Any, Any, int]]:
        """(key, new, old, timestamp) of each forwarded Change since the last take()."""
        out = [(r.key, r.value.new_value, r.value.old_value, r.timestamp) for r in self.forwarded]
        self.forwarded.clear()
        return out

    def take_values(self) -> list[tuple[Any, Any]]:
        """(key, value) of each forwarded plain record since the last take."""
        out = [(r.key, r.value) for r in self.forwarded]
        self.forwarded.clear()
        return out


def started(supplier: Any, context: FakeContext) -> Any:
    """A processor from `supplier`, init()ed with `context`."""
    processor = supplier()
    processor.init(context)
    return processor


def rec(key: Any, value: Any, timestamp: int = 0) -> Record[Any, Any]:
    return Record(key, value, timestamp)


def chg(key: Any, new: Any, old: Any = None, timestamp: int = 0) -> Record[Any, Any]:
    return Record(key, Change(new, old), timestamp)


class RealStores:
    """S3's real timestamped stores (in-memory, metered -> caching -> logging) on one task context and cache."""

    def __init__(self, tmp_dir: str, key_serde: Any, value_serde: Any) -> None:
        from pystreams.processor import TaskId
        from pystreams.state.context import StateStoreContext
        from pystreams.state.internals.cache import ThreadCache

        self.context = StateStoreContext("app", TaskId(0, 0), tmp_dir, key_serde=key_serde, value_serde=value_serde,
                                         cache=ThreadCache(10 * 1024 * 1024))
        self.stores: list[Any] = []

    def store(self, name: str, caching: bool, key_serde: Any = None, value_serde: Any = None) -> Any:
        """A timestamped store named `name`, initialized; flush order = creation order."""
        from pystreams.state import Stores

        builder = Stores.timestamped_key_value_store_builder(Stores.in_memory_key_value_store(name), key_serde,
                                                             value_serde)
        builder.with_caching_enabled() if caching else builder.with_caching_disabled()
        store = builder.build()
        store.init(self.context, store)
        self.stores.append(store)
        return store

    def at(self, timestamp: int) -> None:
        """The record being processed has this timestamp (the cache stamps entries with it)."""
        self.context.record_context.timestamp = timestamp

    def commit(self) -> None:
        """Flush every store in creation (topological) order, as a task commit does."""
        for store in self.stores:
            store.flush()
