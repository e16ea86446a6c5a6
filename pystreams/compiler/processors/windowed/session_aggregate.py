"""KStreamSessionWindowAggregate: SessionWindows count/reduce/aggregate into a session store (Kafka's semantics).

For a record at ts: find the key's sessions ending at or after ts - gap and starting at or before ts + gap,
merge them (merger(key, agg, session agg), from initializer()) into one window covering them and [ts, ts];
if that window ends before stream time - grace - gap the record is late (dropped, counted); otherwise the
merged sessions are removed (each forwarded as a tombstone, timestamp = its end) and the new aggregate is
stored and forwarded with timestamp = the merged window's end. None keys are dropped.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import change
from pystreams.compiler.processors.stateful.forwarding import log_skipped, record_dropped
from pystreams.compiler.processors.stateful.suppliers import KTableValueGetter, KTableValueGetterSupplier
from pystreams.compiler.processors.windowed.aggregate_base import WindowedAggregateProcessor, WindowedAggregateSupplier
from pystreams.compiler.processors.windowed.time_window_aggregate import _WindowValueGetter, _WindowValueGetterSupplier
from pystreams.dsl.windows import EmitStrategy, SessionWindows
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state import ValueAndTimestamp

LOG = logging.getLogger("pystreams.processors.windowed")


class KStreamSessionWindowAggregate(WindowedAggregateSupplier):
    """Supplier of the session aggregate; merger(key, agg1, agg2) combines sessions a record bridges."""

    def __init__(self, windows: SessionWindows, store_name: str, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any], merger: Callable[[Any, Any, Any], Any],
                 emit_strategy: EmitStrategy = EmitStrategy.ON_WINDOW_UPDATE) -> None:
        super().__init__(windows, store_name, initializer, aggregator, emit_strategy)
        self.merger = merger

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _SessionAggregateProcessor(self)

    def view(self) -> KTableValueGetterSupplier:
        return _SessionValueGetterSupplier(self.store_name)


class _SessionAggregateProcessor(WindowedAggregateProcessor):
    s: KStreamSessionWindowAggregate

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        super().init(context)
        if self.emit_final:  # Kafka builds emit-final session stores without a cache
            self.caching = False
            return
        set_listener = getattr(self.store, "set_flush_listener", None)
        # Kafka's SessionCacheFlushListener: flushed updates carry the session end as timestamp
        self.caching = bool(set_listener(self._on_flush, self.s.send_old_values)) if callable(set_listener) else False

    def _on_flush(self, record: Record[Any, Any]) -> None:
        self.context.forward(record.with_timestamp(record.key.window.end))

    def _forward(self, key: Windowed[Any], old: Any, new: Any) -> None:
        if not self.caching and not self.emit_final:
            self.context.forward(Record(key, change(new, old if self.s.send_old_values else None), key.window.end))

    def process(self, record: Record[Any, Any]) -> None:
        s = self.s
        if record.key is None:
            log_skipped(self.context, "null key")
            self.dropped_records += 1
            record_dropped(self.context)
            return
        ts = record.timestamp
        self.observed_stream_time = max(self.observed_stream_time, ts)
        close_time = self.observed_stream_time - s.windows.grace_ms - s.windows.gap_ms
        new_window = SessionWindow(ts, ts)
        merged_window = new_window
        agg = s.initializer()
        merged = list(self.store.find_sessions(record.key, ts - s.windows.gap_ms, ts + s.windows.gap_ms))
        for session, value in merged:
            agg = s.merger(record.key, agg, value)
            w = session.window
            merged_window = SessionWindow(min(merged_window.start, w.start), max(merged_window.end, w.end))
        self._process(record, close_time, merged, merged_window, new_window, agg)
        self._maybe_forward_final(record, close_time)

    def _process(self, record: Record[Any, Any], close_time: int, merged: list[Any], merged_window: SessionWindow,
                 new_window: SessionWindow, agg: Any) -> None:
        s, ts = self.s, record.timestamp
        if merged_window.end < close_time:
            LOG.debug("Skipping record for expired window. timestamp=[%s] window=[%s,%s] expiration=[%s] "
                      "streamTime=[%s]", ts, merged_window.start, merged_window.end, close_time,
                      self.observed_stream_time)
            self.dropped_records += 1
            record_dropped(self.context)
            return
        if merged_window != new_window:
            for session, value in merged:
                self.store.remove(session)
                self._forward(session, value, None)
        agg = s.aggregator(record.key, record.value, agg)
        key = Windowed(record.key, merged_window)
        self.store.put(key, agg)
        self._forward(key, None, agg)

    def _maybe_forward_final(self, record: Record[Any, Any], close_time: int) -> None:
        """EmitStrategy.ON_WINDOW_CLOSE: sessions ending in [last close time, close time - 1], once each."""
        if not self._should_emit_final(close_time):
            return
        last = self.last_emit_window_close_time
        upper = close_time - 1
        if upper < 0:
            return
        lower = max(0, last)
        if upper < lower:
            return
        for windowed, value in list(self.store.find_sessions_by_end(lower, upper)):
            self.context.forward(Record(windowed, change(value, None), windowed.window.end, record.headers))
        self._emitted(close_time)


class _SessionValueGetter(_WindowValueGetter):
    """Reads a session's aggregate, stamped with the session end (Kafka's session value getter)."""

    def get(self, windowed: Windowed[Any]) -> Any:
        w = windowed.window
        return ValueAndTimestamp.make(self.store.fetch_session(windowed.key, w.start, w.end), w.end)


class _SessionValueGetterSupplier(_WindowValueGetterSupplier):
    def get(self) -> KTableValueGetter:
        return _SessionValueGetter(self.store_name)
