"""Session store layers: change-logging (key + end + start, plain value, record timestamp) and the typed metered
SessionStore (Kafka's ChangeLoggingSessionBytesStore / MeteredSessionStore), plus its builder."""
from __future__ import annotations

from typing import Any, Iterator

from pystreams.errors import ConfigError, StateStoreError
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.api import KeyValueIterator, StateStore
from pystreams.state.builder import StoreBuilder
from pystreams.state.session.keys import to_session_key

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


class MeteredSessionStore(StateStore):
    """SessionStore[K, V]: values per Windowed(key, SessionWindow(start, end))."""

    def __init__(self, wrapped: Any, metrics_scope: str, key_serde: Any, value_serde: Any) -> None:
        self.wrapped = wrapped
        self.metrics_scope = metrics_scope
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._ks: Any = None
        self._vs: Any = None
        self._topic = ""
        self._open = False

    @property
    def name(self) -> str:
        return str(self.wrapped.name)

    @property
    def persistent(self) -> bool:
        return bool(self.wrapped.persistent)

    def is_open(self) -> bool:
        return self._open

    def init(self, context: Any, root: Any) -> None:
        self._topic = context.changelog_for(self.name)
        self._ks = self._key_serde if self._key_serde is not None else context.key_serde
        self._vs = self._value_serde if self._value_serde is not None else context.value_serde
        for what, serde, key in (("key", self._ks, "default.key.serde"), ("value", self._vs, "default.value.serde")):
            if serde is None:
                raise ConfigError(f"Session store {self.name} has no {what} serde: pass one to the store builder "
                                  f"(or Materialized) or set {key}")
        self.wrapped.init(context, root)
        self._open = True
        inner = self.wrapped
        while hasattr(inner, "wrapped"):
            inner = inner.wrapped
        context.register(root, inner.restore_batch)

    def flush(self) -> None:
        self.wrapped.flush()

    def flush_cache(self) -> None:
        flush_cache = getattr(self.wrapped, "flush_cache", None)
        if flush_cache is not None:
            flush_cache()

    def set_flush_listener(self, listener: Any, send_old_values: bool) -> bool:
        """With a caching layer: listener(Record(Windowed session key, Change(new, old), ts, headers))."""
        set_listener = getattr(self.wrapped, "set_flush_listener", None)
        if not callable(set_listener):
            return False
        from pystreams.processor.record import Record
        from pystreams.state.api import Change
        from pystreams.state.session.keys import split_session_key

        def value(raw: bytes | None) -> Any:
            return None if raw is None else self._vs.deserialize(self._topic, raw)

        def typed(store_key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            key, start, end = split_session_key(store_key)
            windowed = Windowed(self._ks.deserialize(self._topic, key), SessionWindow(start, end))
            listener(Record(windowed, Change(value(new), value(old)), timestamp, headers))
        return bool(set_listener(typed, send_old_values))

    def close(self) -> None:
        self._open = False
        self.wrapped.close()

    def _raw_key(self, key: Any) -> bytes:
        if not self._open:
            raise StateStoreError(f"Session store {self.name} is not open (use it between init() and close())")
        if key is None:
            raise StateStoreError(f"Session store {self.name}: key cannot be None")
        return self._ks.serialize(self._topic, key)  # type: ignore[no-any-return]

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
