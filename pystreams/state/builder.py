"""StoreBuilder: assembles Metered(Caching(ChangeLogging(bytes store))) like Kafka's KeyValueStoreBuilder."""
from __future__ import annotations

from typing import Any

from pystreams.state.internals.caching import CachingKeyValueStore
from pystreams.state.internals.change_logging import (ChangeLoggingKeyValueBytesStore,
                                                      ChangeLoggingTimestampedKeyValueBytesStore)
from pystreams.state.internals.metered import MeteredKeyValueStore, MeteredTimestampedKeyValueStore


class StoreBuilder:
    """How to build one store per task; caching off and logging on by default, as in Kafka."""

    def __init__(self, supplier: Any, key_serde: Any = None, value_serde: Any = None) -> None:
        self.supplier = supplier
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.caching_enabled = False
        self.logging_enabled = True
        self.log_config: dict[str, str] = {}

    @property
    def name(self) -> str:
        return str(self.supplier.name)

    def with_caching_enabled(self) -> StoreBuilder:
        self.caching_enabled = True
        return self

    def with_caching_disabled(self) -> StoreBuilder:
        self.caching_enabled = False
        return self

    def with_logging_enabled(self, topic_config: dict[str, str] | None = None) -> StoreBuilder:
        """Log changes to `<application.id>-<name>-changelog`, created with these topic configs."""
        self.logging_enabled = True
        self.log_config = dict(topic_config or {})
        return self

    def with_logging_disabled(self) -> StoreBuilder:
        self.logging_enabled = False
        self.log_config = {}
        return self

    def build(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, caching={self.caching_enabled}, "
                f"logging={self.logging_enabled})")


class KeyValueStoreBuilder(StoreBuilder):
    """Builds KeyValueStore[K, V]."""

    _logging = ChangeLoggingKeyValueBytesStore
    _metered = MeteredKeyValueStore

    def build(self) -> Any:
        store: Any = self.supplier.get()
        if self.logging_enabled:
            store = self._logging(store)
        if self.caching_enabled:
            store = CachingKeyValueStore(store)
        return self._metered(store, self.supplier.metrics_scope, self.key_serde, self.value_serde)


class TimestampedKeyValueStoreBuilder(KeyValueStoreBuilder):
    """Builds TimestampedKeyValueStore[K, V] (values ValueAndTimestamp)."""

    _logging = ChangeLoggingTimestampedKeyValueBytesStore
    _metered = MeteredTimestampedKeyValueStore
