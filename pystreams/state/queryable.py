"""QueryableStoreTypes: which kind of store an interactive query expects (Kafka's names)."""
from __future__ import annotations

from typing import Any

from pystreams.state.api import KeyValueStore, TimestampedKeyValueStore


class QueryableStoreType:
    """Accepts stores of one kind; the runtime uses it to check and narrow interactive queries."""

    def __init__(self, name: str, store_class: type) -> None:
        self.name = name
        self.store_class = store_class

    def accepts(self, store: Any) -> bool:
        return isinstance(store, self.store_class)

    def __repr__(self) -> str:
        return f"QueryableStoreTypes.{self.name}()"


class QueryableStoreTypes:
    """Kafka's QueryableStoreTypes factory."""

    @staticmethod
    def key_value_store() -> QueryableStoreType:
        return QueryableStoreType("key_value_store", KeyValueStore)

    @staticmethod
    def timestamped_key_value_store() -> QueryableStoreType:
        return QueryableStoreType("timestamped_key_value_store", TimestampedKeyValueStore)

    @staticmethod
    def window_store() -> QueryableStoreType:
        """Any window store, read as plain values (also a timestamped one, as in Kafka)."""
        from pystreams.state.window.metered import MeteredWindowStore
        return QueryableStoreType("window_store", MeteredWindowStore)

    @staticmethod
    def timestamped_window_store() -> QueryableStoreType:
        """A timestamped window store, read as ValueAndTimestamp."""
        from pystreams.state.window.metered import MeteredTimestampedWindowStore
        return QueryableStoreType("timestamped_window_store", MeteredTimestampedWindowStore)

    @staticmethod
    def session_store() -> QueryableStoreType:
        """A session store (a windowed_by(SessionWindows) aggregate), read as (Windowed key, value) sessions."""
        from pystreams.state.session.layers import MeteredSessionStore
        return QueryableStoreType("session_store", MeteredSessionStore)
