"""KStreamWindowAggregate: TimeWindows count/reduce/aggregate into a timestamped window store.

Kafka's semantics: a record with a None key is dropped; stream time = max record timestamp seen by this
processor; a window accepts records while window end > stream time - grace, later ones are dropped and
counted; the aggregate's timestamp is max(record, previous aggregate). EmitStrategy.ON_WINDOW_CLOSE
forwards nothing per update and emits closed windows (fetch_all over the newly closed range) instead,
at most once per emit interval of wall-clock time.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import change
from pystreams.compiler.processors.stateful.forwarding import direct_path, log_skipped, record_dropped
from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.compiler.processors.stateful.suppliers import KTableValueGetter, KTableValueGetterSupplier
from pystreams.compiler.processors.windowed.aggregate_base import WindowedAggregateProcessor, WindowedAggregateSupplier
from pystreams.compiler.processors.windowed.flush_listener import WindowTupleForwarder
from pystreams.compiler.processors.windowed.time_tracker import NO_TIMESTAMP
from pystreams.dsl.windows import LONG_MAX, EmitStrategy, TimeWindows
from pystreams.errors import PystreamsError
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes.windowed import TimeWindow, Windowed
from pystreams.state import ValueAndTimestamp

LOG = logging.getLogger("pystreams.processors.windowed")
_new = tuple.__new__


class KStreamWindowAggregate(WindowedAggregateSupplier):
    """Supplier of KSTREAM-AGGREGATE / KSTREAM-REDUCE over TimeWindows (Kafka's KStreamWindowAggregate).

    reduce() is KStreamWindowAggregate(windows, store, lambda: None, lambda k, v, agg: v if agg is None else
    reducer(agg, v)), as Kafka builds it.
    """

    def __init__(self, windows: TimeWindows, store_name: str, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any],
                 emit_strategy: EmitStrategy = EmitStrategy.ON_WINDOW_UPDATE) -> None:
        super().__init__(windows, store_name, initializer, aggregator, emit_strategy)

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _WindowAggregateProcessor(self)

    def view(self) -> KTableValueGetterSupplier:
        return _WindowValueGetterSupplier(self.store_name)


class _WindowAggregateProcessor(WindowedAggregateProcessor):
    s: KStreamWindowAggregate
    _fast: Any = None
    _fused_update: Callable[..., None] | None = None

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        super().init(context)
        self.forwarder = WindowTupleForwarder(None if self.emit_final else self.store, context,
                                                   self.s.send_old_values)
        # per update, a Change is built only when this processor forwards it (no cache, not emit-final)
        self._forward_now = not self.emit_final and not self.forwarder.caching_enabled
        # without a per-update forward, the store's fused fetch-aggregate-put (one key serialization, one cache key)
        self._fused_update = None if self._forward_now else getattr(self.store, "aggregate_window", None)
        windows = self.s.windows
        self._size_ms, self._advance_ms, self._grace_ms = windows.size_ms, windows.advance_ms, windows.grace_ms
        self._initializer, self._aggregator = self.s.initializer, self.s.aggregator
        self._aggregate_window = self._fused_update  # sets _fast

    @property
    def _aggregate_window(self) -> Callable[..., None] | None:
        """The store's fused fetch-aggregate-put, None for fetch() then put()."""
        return self._fused_update

    @_aggregate_window.setter
    def _aggregate_window(self, fused: Callable[..., None] | None) -> None:
        self._fused_update = fused
        # what the direct path needs per record, read in one attribute load (None: it calls process()): the
        # store's update(key, window start, value, timestamp) with the user functions bound, and the window spec
        if fused is None or self.emit_final:
            self._fast = None
            return
        initializer, aggregator = self._initializer, self._aggregator
        make = getattr(self.store, "window_updater", None)
        if make is not None:  # count(): the store's update adds one without calling the functions
            counting = initializer is count_initializer and aggregator is count_aggregator
            update = make(initializer, aggregator, counting, self._advance_ms == self._size_ms)
        else:
            def update(key: Any, start: int, value: Any, timestamp: int) -> None:
                fused(key, start, value, timestamp, initializer, aggregator)
        self._fast = (update, self._size_ms, self._advance_ms, self._grace_ms)

    def _drop(self, reason: str) -> None:
        log_skipped(self.context, reason)
        self.dropped_records += 1
        record_dropped(self.context)

    def direct_process(self, children: Any, by_name: Any, on_error: Callable[[Exception, Any], None]
                       ) -> Callable[[Any], None]:
        """The engine's direct path (one frame less per record); forwards still go through context.forward.
        With the store's fused update and no emit-final, process() is inlined here: the windows of the record,
        one aggregate_window() call each, nothing else per record."""
        slow = direct_path(self.process, on_error)
        proc = self

        def run_fields(key: Any, value: Any, timestamp: int, headers: Any) -> None:
            fast = proc._fast  # set by init(), which runs after the engine asked for this path
            if fast is None:
                slow(_new(Record, (key, value, timestamp, headers)))
                return
            update, size, advance, grace = fast
            try:
                if key is None:
                    proc._drop("null key")
                    return
                stream_time = proc.observed_stream_time
                if timestamp > stream_time:
                    proc.observed_stream_time = stream_time = timestamp
                close_time = stream_time - grace
                if size == advance:  # tumbling: the one window holding the record (none for a negative timestamp)
                    if timestamp >= 0:
                        start = timestamp - timestamp % size
                        end = start + size
                        if end > LONG_MAX:
                            end = LONG_MAX
                        if end <= close_time:
                            proc._skip(timestamp, start, end, close_time)
                        else:
                            update(key, start, value, timestamp)
                    return
                start = timestamp - size + advance
                start = 0 if start < 0 else (start // advance) * advance
                while start <= timestamp:
                    end = start + size
                    if end > LONG_MAX:
                        end = LONG_MAX
                    if end <= close_time:
                        proc._skip(timestamp, start, end, close_time)
                    else:
                        update(key, start, value, timestamp)
                    start += advance
            except PystreamsError:
                raise
            except Exception as e:
                on_error(e, _new(Record, (key, value, timestamp, headers)))  # the record process() would get

        def run(record: Any) -> None:
            run_fields(record.key, record.value, record.timestamp, record.headers)

        # the engine's callers that have the fields at hand (a fused chain's last step, the record queue's drain)
        # call run_fields and build no Record for it (pystreams.processor.internals.chain.fields_of)
        run._pystreams_fields = run_fields  # type: ignore[attr-defined]
        return run

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None:
            self._drop("null key")
            return
        timestamp = record.timestamp
        stream_time = self.observed_stream_time
        if timestamp > stream_time:
            self.observed_stream_time = stream_time = timestamp
        close_time = stream_time - self._grace_ms
        # the windows containing the record, oldest first, as TimeWindows.windows_for gives them (none before 0),
        # without building a dict of TimeWindows per record
        size, advance = self._size_ms, self._advance_ms
        start = timestamp - size + advance
        start = 0 if start < 0 else (start // advance) * advance
        fused = self._fused_update
        while start <= timestamp:
            end = start + size
            if end > LONG_MAX:
                end = LONG_MAX
            if end <= close_time:
                self._skip(timestamp, start, end, close_time)
            elif fused is not None:
                fused(key, start, record.value, timestamp, self._initializer, self._aggregator)
            else:
                self._update(record, key, start, end)
            start += advance
        if self.emit_final:
            self._maybe_forward_final(record, close_time)

    def _update(self, record: Record[Any, Any], key: Any, start: int, end: int) -> None:
        """Aggregate the record into the window [start, end) and forward the update (no record cache)."""
        store = self.store
        old = store.fetch(key, start)
        new_ts = record.timestamp
        if old is None:
            old_agg = self.s.initializer()
        else:
            old_agg = old.value
            if old.timestamp > new_ts:
                new_ts = old.timestamp
        new_agg = self.s.aggregator(key, record.value, old_agg)
        store.put(key, None if new_agg is None else ValueAndTimestamp(new_agg, new_ts), start)
        if self._forward_now:
            self.forwarder.maybe_forward(Record(
                Windowed(key, TimeWindow(start, end)), change(new_agg, old_agg if self.s.send_old_values else None),
                new_ts, record.headers))

    def _skip(self, timestamp: int, start: int, end: int, close_time: int) -> None:
        LOG.debug("Skipping record for expired window. timestamp=[%s] window=[%s,%s) expiration=[%s] "
                  "streamTime=[%s]", timestamp, start, end, close_time, self.observed_stream_time)
        self.dropped_records += 1
        record_dropped(self.context)

    # ---- EmitStrategy.ON_WINDOW_CLOSE
    def _maybe_forward_final(self, record: Record[Any, Any], close_time: int) -> None:
        if not self._should_emit_final(close_time):
            return
        size = self.s.windows.size_ms
        upper = close_time - size
        if upper < 0:
            return
        last = self.last_emit_window_close_time
        lower = 0 if last == NO_TIMESTAMP else max(0, last - size) + 1
        if last != NO_TIMESTAMP:
            windows = self.s.windows
            if windows.windows_for(upper) == windows.windows_for(lower - 1):
                return
        for windowed, vat in list(self.store.fetch_all(lower, upper)):
            self.forwarder.maybe_forward(Record(windowed, change(vat.value, None), vat.timestamp, record.headers))
        self._emitted(close_time)


class _WindowValueGetter:
    def __init__(self, store_name: str) -> None:
        self.store_name = store_name
        self.store: Any = None

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.store = context.get_state_store(self.store_name)

    def get(self, windowed: Windowed[Any]) -> Any:
        return self.store.fetch(windowed.key, windowed.window.start)

    def close(self) -> None:
        pass


class _WindowValueGetterSupplier(KTableValueGetterSupplier):
    def __init__(self, store_name: str) -> None:
        self.store_name = store_name

    def get(self) -> KTableValueGetter:
        return _WindowValueGetter(self.store_name)

    def store_names(self) -> list[str]:
        return [self.store_name]
