"""KTableToStream: KTable.to_stream() turns Change records into plain values (Kafka maps change -> newValue)."""
from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable

from pystreams.processor import Processor, ProcessorContext, Record

_new_value = attrgetter("new_value")


class KTableToStream:
    """Supplier of KTABLE-TOSTREAM: forwards the new value (None for a deletion, i.e. a tombstone)."""

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _KTableToStreamProcessor()

    get = __call__

    def __repr__(self) -> str:
        return "KTableToStream()"


class _KTableToStreamProcessor(Processor[Any, Any, Any, Any]):
    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context

    def process(self, record: Record[Any, Any]) -> None:
        self._context.forward(record.with_value(record.value.new_value))

    def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
        """process() as a map_values step (Change -> its new value), so the engine fuses it with what follows
        (e.g. the sink of to_stream().to()) instead of running it as a generic node per flushed update."""
        return ("map_values", _new_value, None)
