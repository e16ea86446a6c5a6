"""The typed layer Kafka's MeteredWindowStore and MeteredSessionStore share (on top of the metered stores' common
TypedLayer): restore into the innermost bytes store, the cache's flush listener with Windowed keys, and Kafka's
stream-state-metrics at metrics.recording.level DEBUG/TRACE (state/internals/store_metrics.py: measured operations
installed on the instance at init; nothing at INFO)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pystreams.serdes.windowed import Windowed
from pystreams.state.api import KeyValueIterator, StateStore
from pystreams.state.internals import store_metrics
from pystreams.state.internals.store_metrics import StoreSensors
from pystreams.state.internals.typed_layer import TypedLayer


class MeteredWindowedLayer(TypedLayer, StateStore):
    """Base of the metered window and session stores; subclasses say how a stored key becomes a Windowed key."""

    _kind = "Window store"  # how errors name the store
    #: which store's metrics (Kafka's MeteredWindowStore or MeteredSessionStore): "window" or "session"
    _metrics_kind = "window"
    #: DEBUG/TRACE: Kafka's store sensors while open; None at INFO
    sensors: StoreSensors | None = None
    _metered_ops: tuple[str, ...] = ()  # the measured operations installed on the instance
    _store_context: Any = None  # the init context (TRACE: the current record's timestamp)

    def init(self, context: Any, root: Any) -> None:
        """Open the stack; at DEBUG/TRACE also Kafka's store sensors (restore: this init's latency) and the
        measured operations."""
        session = self._metrics_kind == "session"
        sensors = store_metrics.sensors_for(context, store_metrics.SESSION_METRIC_OPERATIONS if session
                                            else store_metrics.WINDOW_METRIC_OPERATIONS)
        if sensors is None:
            super().init(context, root)
            return
        start = time.perf_counter_ns()
        super().init(context, root)
        end = time.perf_counter_ns()
        sensors.record("restore", end - start, end)
        self._store_context, self.sensors = context, sensors  # cache hit-ratio: key-value stores only, so far
        cls: Any = type(self)  # the window or session store class: its plain put

        def put(*args: Any) -> None:
            cls.put(self, *args)
            sensors.e2e_after_put(context)
        inner: dict[str, Callable[..., Any]] = {"put": put}
        if session:
            inner["remove"] = lambda session_key: cls.put(self, session_key, None)  # a remove, not a put
            installed = store_metrics.install_timed(self, sensors, KeyValueIterator, inner,
                                                    store_metrics.SESSION_OPERATIONS, store_metrics.SESSION_ITERATORS)
        else:
            installed = store_metrics.install_timed(self, sensors, KeyValueIterator, inner,
                                                    store_metrics.WINDOW_OPERATIONS, store_metrics.WINDOW_ITERATORS,
                                                    store_metrics.WINDOW_VALUE_OR_ITERATOR)
        self._metered_ops = tuple(installed)

    def close(self) -> None:
        if self._metered_ops:
            store_metrics.uninstall_timed(self, self._metered_ops)
            self._metered_ops = ()
        self.sensors = None
        self._store_context = None
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
