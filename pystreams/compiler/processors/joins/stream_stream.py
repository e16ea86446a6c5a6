"""KStream-KStream windowed joins (Kafka's KStreamJoinWindow + KStreamKStreamJoin{Left,Right}Side).

Wiring, as Kafka builds it: each input goes to a KSTREAM-WINDOWED-n node that writes the record into its
side's window store (retain duplicates, retention = before + after + grace, window size = before + after)
and forwards it; then the side's join node looks the key up in the OTHER side's window store within
[ts - before, ts + after] (mirrored for the right side) and forwards joiner(key, left, right) with
timestamp max(ts, other ts); both join nodes feed one merge node.
Left/outer joins with JoinWindows.of_time_difference_* (the spurious-result fix) do not emit a null-joined
result when a record finds no partner: they park it in the shared outer store and emit it only when stream
time has passed its window (+ grace), unless a partner arrives first. Stream time is shared per task.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from pystreams.compiler.processors.joins.outer_store import LeftOrRightValue, TimestampedKeyAndJoinSide
from pystreams.compiler.processors.stateful.forwarding import log_skipped, record_dropped
from pystreams.compiler.processors.windowed.time_tracker import EMIT_INTERVAL_OUTER_JOIN, TimeTracker, emit_interval
from pystreams.dsl.windows import JoinWindows
from pystreams.processor import Processor, ProcessorContext, Record

LOG = logging.getLogger("pystreams.processors.joins")
ValueJoiner = Callable[[Any, Any, Any], Any]


def java_long(value: int) -> int:
    """The value wrapped to a signed 64-bit integer, as Java's long addition overflows."""
    return ((value + (1 << 63)) % (1 << 64)) - (1 << 63)


class KStreamJoinWindow:
    """Supplier of KSTREAM-WINDOWED-n: store each keyed record in its side's window store, forward it."""

    def __init__(self, window_store_name: str) -> None:
        self.window_store_name = window_store_name

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _JoinWindowProcessor(self.window_store_name)


class _JoinWindowProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, store_name: str) -> None:
        self.store_name = store_name

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.window = context.get_state_store(self.store_name)

    def process(self, record: Record[Any, Any]) -> None:
        self.context.forward(record)
        if record.key is not None:
            self.window.put(record.key, record.value, record.timestamp)


class TimeTrackerSupplier:
    """One TimeTracker per task, shared by the left and right join processors of that task."""

    def __init__(self) -> None:
        self._trackers: dict[str, TimeTracker] = {}

    def get(self, task_id: Any) -> TimeTracker:
        return self._trackers.setdefault(str(task_id), TimeTracker())

    def remove(self, task_id: Any) -> None:
        self._trackers.pop(str(task_id), None)


class KStreamKStreamJoin:
    """Supplier of one side's join node (KSTREAM-JOINTHIS/JOINOTHER, OUTERTHIS/OUTEROTHER).

    joiner(key, this_value, other_value); pass the right side a reversed joiner so results are always
    joiner(key, left, right). outer: emit unmatched records of THIS side (left join: left side only).
    """

    def __init__(self, is_left_side: bool, other_window_name: str, windows: JoinWindows, joiner: ValueJoiner,
                 outer: bool, outer_join_store_name: str | None, time_tracker_supplier: TimeTrackerSupplier) -> None:
        self.is_left_side = is_left_side
        self.other_window_name = other_window_name
        self.windows = windows
        self.joiner = joiner
        self.outer = outer
        self.outer_join_store_name = outer_join_store_name if windows.enable_spurious_result_fix else None
        self.tracker_supplier = time_tracker_supplier
        if is_left_side:
            self.join_before_ms, self.join_after_ms = windows.before_ms, windows.after_ms
        else:
            self.join_before_ms, self.join_after_ms = windows.after_ms, windows.before_ms

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _StreamStreamJoinProcessor(self)


class _StreamStreamJoinProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, s: KStreamKStreamJoin) -> None:
        self.s = s
        self.dropped_records = 0

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.other = context.get_state_store(self.s.other_window_name)
        self.tracker = self.s.tracker_supplier.get(context.task_id)
        self.outer_store = None
        if self.s.outer_join_store_name is not None:
            self.outer_store = context.get_state_store(self.s.outer_join_store_name)
            self.tracker.set_emit_interval(emit_interval(context.app_configs(), EMIT_INTERVAL_OUTER_JOIN))

    def close(self) -> None:
        self.s.tracker_supplier.remove(self.context.task_id)

    def process(self, record: Record[Any, Any]) -> None:
        s, tracker = self.s, self.tracker
        ts = record.timestamp
        tracker.advance_stream_time(ts)
        if s.outer and record.key is None and record.value is not None:
            self.context.forward(record.with_value(s.joiner(record.key, record.value, None)))
            return
        if record.key is None or record.value is None:
            log_skipped(self.context, "null key or value")
            self.dropped_records += 1
            record_dropped(self.context)
            return
        if ts == tracker.stream_time and self.outer_store is not None:
            self._emit_non_joined(record)
        time_from = max(0, ts - s.join_before_ms)
        time_to = max(0, ts + s.join_after_ms)
        matches = list(self.other.fetch(record.key, time_from, time_to))
        for other_ts, other_value in matches:
            if self.outer_store is not None:
                self.outer_store.put_if_absent(TimestampedKeyAndJoinSide(record.key, other_ts, not s.is_left_side),
                                               None)
            self.context.forward(record.with_value(s.joiner(record.key, record.value, other_value))
                                 .with_timestamp(max(ts, other_ts)))
        if s.outer and not matches:
            if self.outer_store is None or time_to < tracker.stream_time:
                self.context.forward(record.with_value(s.joiner(record.key, record.value, None)))
            else:
                tracker.updated_min_time(ts)
                value = LeftOrRightValue(record.value, None) if s.is_left_side else LeftOrRightValue(None, record.value)
                self.outer_store.put(TimestampedKeyAndJoinSide(record.key, ts, s.is_left_side), value)

    def _window_open(self, key: TimestampedKeyAndJoinSide) -> bool:
        windows, tracker = self.s.windows, self.tracker
        look_back = windows.after_ms if key.left_side else windows.before_ms
        return tracker.min_time + look_back + windows.grace_ms >= tracker.stream_time

    def _emit_non_joined(self, record: Record[Any, Any]) -> None:
        s, tracker, store = self.s, self.tracker, self.outer_store
        assert store is not None
        # Java long arithmetic: with no pending record min_time is Long.MAX_VALUE and the sum wraps negative, so
        # the first check passes (and consumes the wall-clock emit slot), exactly as in Kafka
        if java_long(tracker.min_time + s.join_after_ms + s.windows.grace_ms) >= tracker.stream_time:
            return
        now = self.context.current_system_time_ms()
        if now < tracker.next_time_to_emit:
            return
        tracker.next_time_to_emit = now
        tracker.advance_next_time_to_emit()
        tracker.min_time = (1 << 63) - 1
        prev_key = None
        left_open = right_open = False
        it = store.all()
        try:
            for entry in list(it):  # a snapshot: only already-visited keys are deleted below
                key, value = entry.key, entry.value
                tracker.min_time = key.timestamp
                if left_open and right_open:
                    break
                if self._window_open(key):
                    if key.left_side:
                        left_open = True
                    else:
                        right_open = True
                    continue
                joined = s.joiner(key.key, value.left_value, value.right_value) if s.is_left_side else \
                    s.joiner(key.key, value.right_value, value.left_value)
                self.context.forward(record.with_key(key.key).with_value(joined).with_timestamp(key.timestamp))
                if prev_key is not None and prev_key != key:
                    store.put(prev_key, None)
                prev_key = key
        finally:
            it.close()
        if prev_key is not None:
            store.put(prev_key, None)
