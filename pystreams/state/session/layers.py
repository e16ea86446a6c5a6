"""Session store layers: change-logging (key + end + start, plain value, record timestamp) and the typed metered
SessionStore (Kafka's ChangeLoggingSessionBytesStore / MeteredSessionStore), plus its builder."""
from __future__ import annotations

from typing import Any, Iterator

from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.api import KeyValueIterator
from pystreams.state.builder import StoreBuilder
from pystreams.state.session.keys import split_session_key, to_session_key
from pystreams.state.window.metered_layer import MeteredWindowedLayer

LONG_MAX = (1 << 63) - 1


class ChangeLoggingSessionBytesStore:
    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self._context: Any = None

    def __getattr__(self, item: str) -> Any:
        return getattr(self.wrapped, item)

    def init(self, context: Any, root: Any) -> None:
        self.wrapped.init(context, root)
        self._context = context

    def put(self, key: bytes, start: int, end: int, value: bytes | None) -> None:
        self.wrapped.put(key, start, end, value)
        ctx = self._context
        ctx.log_change(self.wrapped.name, to_session_key(key, start, end), value, ctx.record_context.timestamp)

    def find_sessions(self, *args: Any, **kwargs: Any) -> Any:
        return self.wrapped.find_sessions(*args, **kwargs)

    def find_sessions_by_end(self, earliest_end: int, latest_end: int) -> Any:
        return self.wrapped.find_sessions_by_end(earliest_end, latest_end)


class MeteredSessionStore(MeteredWindowedLayer):
    """SessionStore[K, V]: values per Windowed(key, SessionWindow(start, end))."""

    _kind = "Session store"
    _serde_hint = "Materialized"
    _metrics_kind = "session"  # Kafka's MeteredSessionStore metrics (put, remove, fetch, flush)

    def is_open(self) -> bool:
        """Open between init() and close() (the session store has never also asked its bytes store)."""
        return self._open

    def _typed_key(self, store_key: bytes) -> Windowed[Any]:
        key, start, end = split_session_key(store_key)
        return Windowed(self._ks.deserialize(self._topic, key), SessionWindow(start, end))

    def _sessions(self, pairs: Iterator[tuple[tuple[bytes, int, int], bytes]]) -> KeyValueIterator:
        kd, vd, topic = self._ks.deserialize, self._vs.deserialize, self._topic
        return KeyValueIterator((Windowed(kd(topic, k), SessionWindow(start, end)), vd(topic, v))
                                for (k, start, end), v in pairs)

    def put(self, session_key: Windowed[Any], value: Any) -> None:
        """Store the session's aggregate; None removes the session."""
        w = session_key.window
        raw = None if value is None else self._vs.serialize(self._topic, value)
        self.wrapped.put(self._raw_key(session_key.key), w.start, w.end, raw)

    def remove(self, session_key: Windowed[Any]) -> None:
        self.put(session_key, None)

    def fetch_session(self, key: Any, start: int, end: int) -> Any:
        raw = self.wrapped.fetch_session(self._raw_key(key), start, end)
        return None if raw is None else self._vs.deserialize(self._topic, raw)

    def find_sessions(self, key: Any, earliest_session_end: int, latest_session_start: int) -> KeyValueIterator:
        """Sessions of key ending at or after earliest_session_end and starting at or before latest_session_start."""
        raw = self._raw_key(key)
        return self._sessions(self.wrapped.find_sessions(raw, raw, earliest_session_end, latest_session_start, True))

    def backward_find_sessions(self, key: Any, earliest_session_end: int, latest_session_start: int) -> KeyValueIterator:
        raw = self._raw_key(key)
        return self._sessions(self.wrapped.find_sessions(raw, raw, earliest_session_end, latest_session_start, False))

    def fetch(self, key: Any) -> KeyValueIterator:
        """Every live session of key."""
        return self.find_sessions(key, 0, LONG_MAX)

    def backward_fetch(self, key: Any) -> KeyValueIterator:
        return self.backward_find_sessions(key, 0, LONG_MAX)

    def find_sessions_by_end(self, earliest_session_end: int, latest_session_end: int) -> KeyValueIterator:
        """All keys' sessions ending in [earliest, latest] (Kafka's findSessions(earliestEnd, latestEnd))."""
        return self._sessions(self.wrapped.find_sessions_by_end(earliest_session_end, latest_session_end))

    def find_all_sessions(self, earliest_session_end: int, latest_session_start: int) -> KeyValueIterator:
        return self._sessions(self.wrapped.find_sessions(None, None, earliest_session_end, latest_session_start, True))


class SessionStoreBuilder(StoreBuilder):
    """Builds Metered([Caching](ChangeLogging(bytes session store)))."""

    @property
    def retention_period_ms(self) -> int:
        return int(self.supplier.retention_period_ms)

    def build(self) -> Any:
        store: Any = self.supplier.get()
        if self.logging_enabled:
            store = ChangeLoggingSessionBytesStore(store)
        if self.caching_enabled:
            from pystreams.state.window.caching import CachingSessionStore
            store = CachingSessionStore(store, self.supplier.segment_interval_ms if self.supplier.persistent else 1)
        return MeteredSessionStore(store, self.supplier.metrics_scope, self.key_serde, self.value_serde)
