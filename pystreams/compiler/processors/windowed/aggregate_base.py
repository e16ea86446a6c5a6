"""What Kafka's three windowed aggregates (time, sliding, session) share: the supplier's fields and the processor's
stream time, drop count and emit-final throttle (Kafka's TimeTracker), kept in one place so they cannot drift."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful.suppliers import KStreamAggProcessorSupplier
from pystreams.compiler.processors.windowed.time_tracker import (EMIT_INTERVAL_WINDOWED_AGGREGATION, NO_TIMESTAMP,
                                                                 TimeTracker, emit_interval)
from pystreams.dsl.windows import EmitStrategy
from pystreams.processor import Processor, ProcessorContext


class WindowedAggregateSupplier(KStreamAggProcessorSupplier):
    """Fields every windowed aggregate supplier carries; subclasses add the processor and value getter."""

    def __init__(self, windows: Any, store_name: str, initializer: Callable[[], Any],
                 aggregator: Callable[[Any, Any, Any], Any],
                 emit_strategy: EmitStrategy = EmitStrategy.ON_WINDOW_UPDATE) -> None:
        self.emit_strategy = emit_strategy
        self.windows = windows
        self.store_name = store_name
        self.initializer = initializer
        self.aggregator = aggregator
        self.send_old_values = False

    def enable_sending_old_values(self) -> None:
        self.send_old_values = True


class WindowedAggregateProcessor(Processor[Any, Any, Any, Any]):
    """Stream time, dropped records and the wall-clock throttle of emit-final, as all windowed aggregates keep them."""

    def __init__(self, supplier: WindowedAggregateSupplier) -> None:
        self.s = supplier
        self.observed_stream_time = NO_TIMESTAMP
        self.dropped_records = 0
        self.emit_final = supplier.emit_strategy is EmitStrategy.ON_WINDOW_CLOSE
        self.last_emit_window_close_time = NO_TIMESTAMP
        self._metadata_read = not self.emit_final
        self.time_tracker = TimeTracker()

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self._metadata_read = not self.emit_final
        if self.emit_final:
            self.time_tracker.set_emit_interval(emit_interval(context.app_configs(),
                                                              EMIT_INTERVAL_WINDOWED_AGGREGATION))

    def _restore_last_emit(self) -> None:
        """Kafka's init: the last emitted window-close time from the task's ProcessorMetadata (key: the store name),
        read at the first emit decision because the runtime restores the committed metadata after the processors'
        init; without it a restart re-emits every closed window still in the store."""
        self._metadata_read = True
        lookup = getattr(self.context, "processor_metadata_for_key", None)
        restored = lookup(self.s.store_name) if lookup is not None else None
        if restored is not None and (self.last_emit_window_close_time == NO_TIMESTAMP
                                     or restored > self.last_emit_window_close_time):
            self.last_emit_window_close_time = restored

    def _emitted(self, close_time: int) -> None:
        """Windows up to close_time were emitted: remember it and put it in the task's ProcessorMetadata."""
        self.last_emit_window_close_time = close_time
        add = getattr(self.context, "add_processor_metadata_key_value", None)
        if add is not None:
            add(self.s.store_name, close_time)

    def _should_emit_final(self, close_time: int) -> bool:
        """Emit-final only, at most once per emit interval of wall-clock time, and only once stream time closed
        windows past the last emit."""
        if not self.emit_final:
            return False
        if not self._metadata_read:
            self._restore_last_emit()
        now = self.context.current_system_time_ms()
        tracker = self.time_tracker
        if now < tracker.next_time_to_emit:
            return False
        tracker.next_time_to_emit = now
        tracker.advance_next_time_to_emit()
        last = self.last_emit_window_close_time
        return last == NO_TIMESTAMP or last < close_time
