"""The typed layer Kafka's MeteredWindowStore and MeteredSessionStore share (on top of the metered stores' common
TypedLayer): restore into the innermost bytes store, the cache's flush listener with Windowed keys, and Kafka's
stream-state-metrics at metrics.recording.level DEBUG/TRACE (state/internals/store_metrics.py: measured operations
installed on the instance at init; nothing at INFO), with the record cache's hit ratio of single reads (a window
store's fetch(key, start), a session store's fetch_session: Kafka's NamedCache.get), as the key-value store's."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from pystreams.serdes.windowed import Windowed
from pystreams.state.api import KeyValueIterator, StateStore
from pystreams.state.internals import store_metrics
from pystreams.state.internals.cache_layer import CacheLayer
from pystreams.state.internals.store_metrics import SensedStore, StoreSensors
from pystreams.state.internals.typed_layer import TypedLayer
from pystreams.state.window.keys import to_store_key


class MeteredWindowedLayer(SensedStore, TypedLayer, StateStore):
    """Base of the metered window and session stores; subclasses say how a stored key becomes a Windowed key."""

    _kind = "Window store"  # how errors name the store
    #: which store's metrics (Kafka's MeteredWindowStore or MeteredSessionStore): "window" or "session"
    _metrics_kind = "window"

    def init(self, context: Any, root: Any) -> None:
        """Open the stack; at DEBUG/TRACE also Kafka's store sensors (restore: this init's latency) and the
        measured operations."""
        session = self._metrics_kind == "session"
        caching = self.wrapped if isinstance(self.wrapped, CacheLayer) else None
        sensors = self._init_sensed(partial(super().init, context, root), context,
                                    store_metrics.SESSION_METRIC_OPERATIONS if session
                                    else store_metrics.WINDOW_METRIC_OPERATIONS, caching is not None)
        if sensors is None:
            return
        cls: Any = type(self)  # the window or session store class: its plain put

        def put(*args: Any) -> None:
            cls.put(self, *args)
            sensors.e2e_after_put(context)
        inner: dict[str, Callable[..., Any]] = {"put": put}
        if session:
            inner["remove"] = lambda session_key: cls.put(self, session_key, None)  # a remove, not a put
            if caching is not None:
                inner["fetch_session"] = self._session_cache_reads(cls, caching, sensors)
            self._install_sensed(sensors, KeyValueIterator, inner, store_metrics.SESSION_OPERATIONS,
                                 store_metrics.SESSION_ITERATORS)
        else:
            if caching is not None:
                inner["fetch"] = self._window_cache_reads(cls, caching, sensors)
            self._install_sensed(sensors, KeyValueIterator, inner, store_metrics.WINDOW_OPERATIONS,
                                 store_metrics.WINDOW_ITERATORS, store_metrics.WINDOW_VALUE_OR_ITERATOR)

    def _window_cache_reads(self, cls: Any, caching: Any, sensors: StoreSensors) -> Callable[..., Any]:
        """fetch() recording whether a single read, fetch(key, window start), finds the key's window in the record
        cache (a range fetch reads the cache without a hit or miss, as Kafka's)."""
        def fetch(key: Any, time_from: int, time_to: int | None = None) -> Any:
            named = caching._named
            if time_to is None and named is not None and self._open:
                cache_key = caching._cache_key(to_store_key(self._raw_key(key), time_from, 0), time_from)
                sensors.record_cache_read(cache_key in named.entries)
            return cls.fetch(self, key, time_from, time_to)
        return fetch

    def _session_cache_reads(self, cls: Any, caching: Any, sensors: StoreSensors) -> Callable[..., Any]:
        """fetch_session() recording whether the session is in the record cache."""
        from pystreams.state.session.keys import to_session_key

        def fetch_session(key: Any, start: int, end: int) -> Any:
            named = caching._named
            if named is not None and self._open:
                cache_key = caching._cache_key(to_session_key(self._raw_key(key), start, end), end)
                sensors.record_cache_read(cache_key in named.entries)
            return cls.fetch_session(self, key, start, end)
        return fetch_session

    def close(self) -> None:
        self._close_sensed()
        super().close()

    def _typed_key(self, store_key: bytes) -> Windowed[Any]:
        """The Windowed key a cached store key stands for (what the flush listener forwards)."""
        raise NotImplementedError

    def set_flush_listener(self, listener: Callable[[Any], None], send_old_values: bool) -> bool:
        """With a caching layer: listener(Record(Windowed key, Change(new, old), ts, headers)) per flushed
        entry; False without one (then the processor forwards itself)."""
        set_listener = getattr(self.wrapped, "set_flush_listener", None)
        if not callable(set_listener):
            return False
        from pystreams.processor.record import Record
        from pystreams.state.api import Change

        typed_key, value = self._typed_key, self._value

        def typed(store_key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            listener(Record(typed_key(store_key), Change(None if new is None else value(new),
                                                         None if old is None else value(old)), timestamp, headers))
        return bool(set_listener(typed, send_old_values))
