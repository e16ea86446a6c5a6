"""KStream-KTable and KStream-GlobalKTable joins (Kafka's KStreamKTableJoin / KStreamGlobalKTableJoin).

For each stream record: key_mapper(key, value) gives the table key (the stream key for KStream-KTable); the
table's current value comes from its value getter; inner joins forward only when the table has a value,
left joins always (joiner(value, None)). A record with a None value or a None mapped key is dropped, except
that a left join keeps a None-keyed record with a value (joined with None), as Kafka 3.7+.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import value_or_none
from pystreams.compiler.processors.stateful.forwarding import log_skipped, record_dropped
from pystreams.processor import Processor, ProcessorContext, Record

KeyMapper = Callable[[Any, Any], Any]
ValueJoinerWithKey = Callable[[Any, Any, Any], Any]


def _stream_key(key: Any, value: Any) -> Any:
    return key


class KStreamKTableJoin:
    """Supplier of KSTREAM-JOIN-n / KSTREAM-LEFTJOIN-n; joiner(key, stream value, table value)."""

    def __init__(self, value_getter_supplier: Any, joiner: ValueJoinerWithKey, left_join: bool,
                 key_mapper: KeyMapper = _stream_key) -> None:
        self.value_getter_supplier = value_getter_supplier
        self.joiner = joiner
        self.left_join = left_join
        self.key_mapper = key_mapper

    def store_names(self) -> list[str]:
        """The table stores the join node must be connected to."""
        return list(self.value_getter_supplier.store_names())

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _StreamTableJoinProcessor(self)


KStreamGlobalKTableJoin = KStreamKTableJoin
"""Same processor; Kafka passes the user's key selector as key_mapper and the global store's getter."""


class _StreamTableJoinProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, s: KStreamKTableJoin) -> None:
        self.s = s
        self.getter = s.value_getter_supplier.get()
        self.dropped_records = 0

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.getter.init(context)

    def close(self) -> None:
        self.getter.close()

    def process(self, record: Record[Any, Any]) -> None:
        s = self.s
        mapped = s.key_mapper(record.key, record.value)
        if not (s.left_join and record.key is None and record.value is not None):
            if mapped is None or record.value is None:
                log_skipped(self.context, "null join key or value")
                self.dropped_records += 1
                record_dropped(self.context)
                return
        mapped = s.key_mapper(record.key, record.value)
        other = None if mapped is None else value_or_none(self.getter.get(mapped))
        if s.left_join or other is not None:
            self.context.forward(record.with_value(s.joiner(record.key, record.value, other)))
