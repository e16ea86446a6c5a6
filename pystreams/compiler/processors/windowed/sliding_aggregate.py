"""KStreamSlidingWindowAggregate: SlidingWindows count/reduce/aggregate (Kafka's algorithm, reverse-iteration
variant, which Kafka uses with both built-in window stores).

Every record creates its left window [ts - d, ts] (seeded from the previous record's left window when that
record is within d) and, when a later record exists within d, its right window [ts + 1, ts + 1 + d]; it updates
every existing window containing it. Windows end + grace before stream time are closed (late records are
dropped and counted). Records with None key or value are dropped. Window keys are TimeWindow(start, start + d).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import change, value_or_none
from pystreams.compiler.processors.stateful.forwarding import log_skipped, record_dropped
from pystreams.compiler.processors.stateful.suppliers import KTableValueGetterSupplier
from pystreams.compiler.processors.windowed.aggregate_base import WindowedAggregateProcessor, WindowedAggregateSupplier
from pystreams.compiler.processors.windowed.flush_listener import WindowTupleForwarder
from pystreams.compiler.processors.windowed.time_tracker import NO_TIMESTAMP
from pystreams.compiler.processors.windowed.time_window_aggregate import _WindowValueGetterSupplier
from pystreams.dsl.windows import EmitStrategy, SlidingWindows
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes.windowed import TimeWindow, Windowed
from pystreams.state import ValueAndTimestamp

LOG = logging.getLogger("pystreams.processors.windowed")


class KStreamSlidingWindowAggregate(WindowedAggregateSupplier):
    def __init__(self, windows: SlidingWindows, store_name: str, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any],
                 emit_strategy: EmitStrategy = EmitStrategy.ON_WINDOW_UPDATE) -> None:
        super().__init__(windows, store_name, initializer, aggregator, emit_strategy)

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _SlidingProcessor(self)

    def view(self) -> KTableValueGetterSupplier:
        return _WindowValueGetterSupplier(self.store_name)


class _SlidingProcessor(WindowedAggregateProcessor):
    s: KStreamSlidingWindowAggregate

    def __init__(self, s: KStreamSlidingWindowAggregate) -> None:
        super().__init__(s)
        self.d = s.windows.time_difference_ms

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        super().init(context)
        self.forwarder = WindowTupleForwarder(None if self.emit_final else self.store, context,
                                                   self.s.send_old_values)

    def _drop(self) -> None:
        self.dropped_records += 1
        record_dropped(self.context)

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None or record.value is None:
            log_skipped(self.context, "null key or value")
            self._drop()
            return
        ts = record.timestamp
        self.observed_stream_time = max(self.observed_stream_time, ts)
        close_time = self.observed_stream_time - self.s.windows.grace_ms
        if ts + self.d < close_time:
            LOG.debug("Skipping record for expired window. timestamp=[%s] window=[%s,%s] expiration=[%s]",
                      ts, ts, ts + self.d, close_time)
            self._drop()
            return
        if ts < self.d:
            self._process_early(record, close_time)
            return  # Kafka checks for final results only after the regular path
        self._process_reverse(record, close_time)
        self._maybe_forward_final(record, close_time)

    def _maybe_forward_final(self, record: Record[Any, Any], close_time: int) -> None:
        """EmitStrategy.ON_WINDOW_CLOSE: emit windows closed since the last emit (Kafka's bounds for sliding)."""
        if not self._should_emit_final(close_time):
            return
        last = self.last_emit_window_close_time
        upper = close_time - self.d - 1
        if upper < 0:
            return
        lower = 0 if last == NO_TIMESTAMP else max(0, last - self.d)
        for windowed, vat in list(self.store.fetch_all(lower, upper)):
            self.forwarder.maybe_forward(Record(windowed, change(vat.value, None), vat.timestamp, record.headers))
        self._emitted(close_time)

    def _windows(self, record: Record[Any, Any], time_from: int, time_to: int, forward: bool) -> list[Any]:
        fetch = self.store.fetch_key_range if forward else self.store.backward_fetch_key_range
        return list(fetch(record.key, record.key, time_from, time_to))

    def _process_reverse(self, record: Record[Any, Any], close_time: int) -> None:
        ts, d = record.timestamp, self.d
        starts: set[int] = set()
        left_agg = right_agg = None
        left_created = right_created = False
        previous_ts = None
        for windowed, vat in self._windows(record, max(0, ts - 2 * d), ts + 1, False):
            start = windowed.window.start
            starts.add(start)
            end = start + d
            max_ts = vat.timestamp
            if start == ts + 1:
                right_created = True
            elif end > ts:
                if right_agg is None:
                    right_agg = vat
                self._update(windowed.window, vat, record, close_time)
            elif end == ts:
                left_created = True
                self._update(windowed.window, vat, record, close_time)
                if max_ts < ts:
                    previous_ts = max_ts
                else:
                    return
            elif end < ts:
                left_agg = vat
                previous_ts = max_ts
                break
            else:
                raise RuntimeError("Unexpected window found when processing sliding windows")
        self._create_windows(record, close_time, starts, right_agg, left_agg, left_created, right_created,
                             previous_ts)

    def _process_early(self, record: Record[Any, Any], close_time: int) -> None:
        ts, d = record.timestamp, self.d
        combined = None
        right_agg = None
        right_created = False
        starts: set[int] = set()
        previous_ts = None
        for windowed, vat in self._windows(record, 0, ts + 1, True):
            start = windowed.window.start
            starts.add(start)
            if start == 0:
                combined = (windowed, vat)
                if vat.timestamp < ts:
                    previous_ts = vat.timestamp
            elif start <= ts:
                right_agg = vat
                self._update(windowed.window, vat, record, close_time)
            elif start == ts + 1:
                right_created = True
            else:
                raise RuntimeError("Unexpected window found when processing sliding windows")
        if right_agg is None and combined is not None and combined[1].timestamp > ts:
            right_agg = combined[1]
        if not right_created and right_agg is not None and right_agg.timestamp > ts:
            self._create_current_right(ts, right_agg, record)
        if previous_ts is not None and previous_ts + 1 not in starts:
            self._create_previous_right(previous_ts + 1, record, close_time)
        if combined is None:
            self._update(TimeWindow(0, d), ValueAndTimestamp.make(self.s.initializer(), ts), record, close_time)
        else:
            self._update(combined[0].window, combined[1], record, close_time)

    def _create_windows(self, record: Record[Any, Any], close_time: int, starts: set[int], right_agg: Any,
                        left_agg: Any, left_created: bool, right_created: bool, previous_ts: int | None) -> None:
        ts, d = record.timestamp, self.d
        if previous_ts is not None:
            previous_right_start = previous_ts + 1
            if previous_right_start not in starts and previous_right_start + d >= ts:
                self._create_previous_right(previous_right_start, record, close_time)
        if not left_created:
            if previous_ts is not None and ts - d <= previous_ts:
                vat = ValueAndTimestamp.make(left_agg.value, ts)
            else:
                vat = ValueAndTimestamp.make(self.s.initializer(), ts)
            self._update(TimeWindow(ts - d, ts), vat, record, close_time)
        if not right_created and right_agg is not None and right_agg.timestamp > ts:
            self._create_current_right(ts, right_agg, record)

    def _create_current_right(self, ts: int, right_agg: Any, record: Record[Any, Any]) -> None:
        window = TimeWindow(ts + 1, ts + 1 + self.d)
        self.store.put(record.key, right_agg, window.start)
        self._forward(record, window, None, right_agg.value, right_agg.timestamp)

    def _create_previous_right(self, start: int, record: Record[Any, Any], close_time: int) -> None:
        vat = ValueAndTimestamp.make(self.s.initializer(), record.timestamp)
        self._update(TimeWindow(start, start + self.d), vat, record, close_time)

    def _update(self, window: Any, vat: Any, record: Record[Any, Any], close_time: int) -> None:
        if window.end >= close_time:
            old = value_or_none(vat)
            new = self.s.aggregator(record.key, record.value, old)
            new_ts = record.timestamp if old is None else max(record.timestamp, vat.timestamp)
            self.store.put(record.key, ValueAndTimestamp.make(new, new_ts), window.start)
            self._forward(record, window, old, new, new_ts)
        else:
            LOG.debug("Skipping record for expired window. timestamp=[%s] window=[%s,%s] expiration=[%s]",
                      record.timestamp, window.start, window.end, close_time)
            self._drop()

    def _forward(self, record: Record[Any, Any], window: Any, old: Any, new: Any, ts: int) -> None:
        if self.emit_final:
            return
        self.forwarder.maybe_forward(Record(Windowed(record.key, window),
                                            change(new, old if self.s.send_old_values else None), ts,
                                            record.headers))
