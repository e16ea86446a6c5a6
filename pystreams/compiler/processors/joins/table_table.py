"""KTable-KTable joins (Kafka's KTableKTable{Inner,Left,Right,Outer}Join + KTableKTableJoinMerger).

Each side's updates look up the other side's current value through its value getter (both sources get
materialized) and forward Change(joined new, joined old) with timestamp max(this, other); the merge node
forwards both streams of changes (storing them when the join result is materialized). Joiners are
joiner(this_value, other_value); the right side gets the reversed joiner. None keys are dropped.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import change, is_latest, value_or_none
from pystreams.compiler.processors.stateful.forwarding import (TimestampedStore, TimestampedTupleForwarder,
                                                               log_skipped, record_dropped)
from pystreams.compiler.processors.stateful.suppliers import (KTableProcessorSupplier, KTableValueGetter,
                                                               KTableValueGetterSupplier)
from pystreams.compiler.processors.stateful.value_getters import KTableMaterializedValueGetterSupplier
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.state import ValueAndTimestamp

UNKNOWN = -1
INNER, LEFT, RIGHT, OUTER = "inner", "left", "right", "outer"


class KTableKTableJoin(KTableProcessorSupplier):
    """One side of a table-table join: `kind` inner/left/right/outer, `this`/`other` KTableHandles."""

    def __init__(self, kind: str, this: Any, other: Any, joiner: Callable[[Any, Any], Any]) -> None:
        self.kind = kind
        self.this = this
        self.other = other
        self.joiner = joiner
        self.this_getter = this.value_getter_supplier()
        self.other_getter = other.value_getter_supplier()
        self.send_old_values = False

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _JoinProcessor(self)

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        self.this.enable_sending_old_values(True)
        self.other.enable_sending_old_values(True)
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        return _JoinValueGetterSupplier(self)

    def store_names(self) -> list[str]:
        """The other side's stores: the join node must be connected to them."""
        return list(self.other_getter.store_names())


class _JoinProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, s: KTableKTableJoin) -> None:
        self.s = s
        self.getter = s.other_getter.get()

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.getter.init(context)

    def process(self, record: Record[Any, Any]) -> None:
        s = self.s
        if record.key is None:
            log_skipped(self.context, "null key")
            record_dropped(self.context)
            return
        new, old = record.value.new_value, record.value.old_value
        other_vat = self.getter.get(record.key)
        other = value_or_none(other_vat)
        new_out = old_out = None
        joiner = s.joiner
        if s.kind == INNER or s.kind == RIGHT:
            if other is None:
                return
            ts = max(record.timestamp, other_vat.timestamp)
            if s.kind == RIGHT:
                new_out = joiner(new, other)
                if s.send_old_values:
                    old_out = joiner(old, other)
            else:
                if new is not None:
                    new_out = joiner(new, other)
                if s.send_old_values and old is not None:
                    old_out = joiner(old, other)
        else:
            if other is None:
                if new is None and old is None:
                    return
                ts = max(record.timestamp, UNKNOWN) if s.kind == LEFT else record.timestamp
            else:
                ts = max(record.timestamp, other_vat.timestamp)
            if s.kind == LEFT:
                if new is not None:
                    new_out = joiner(new, other)
                if s.send_old_values and old is not None:
                    old_out = joiner(old, other)
            else:
                if other is not None or new is not None:
                    new_out = joiner(new, other)
                if s.send_old_values and (other is not None or old is not None):
                    old_out = joiner(old, other)
        self.context.forward(record.with_value(change(new_out, old_out, is_latest(record.value))).with_timestamp(ts))


class _JoinValueGetter:
    """Kafka's KTableKTable*JoinValueGetter: the join computed from both sides' current values."""

    def __init__(self, s: KTableKTableJoin) -> None:
        self.s = s
        self.g1: Any = s.this_getter.get()
        self.g2: Any = s.other_getter.get()

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.g1.init(context)
        self.g2.init(context)

    def get(self, key: Any) -> Any:
        vat1, vat2 = self.g1.get(key), self.g2.get(key)
        v1, v2 = value_or_none(vat1), value_or_none(vat2)
        kind = self.s.kind
        if kind in (INNER, RIGHT):
            if v1 is None or v2 is None:
                return None
        elif kind == LEFT:
            if v1 is None:
                return None
        elif v1 is None and v2 is None:
            return None
        ts = max(vat.timestamp for vat in (vat1, vat2) if vat is not None)
        return ValueAndTimestamp(self.s.joiner(v1, v2), ts)

    def close(self) -> None:
        self.g1.close()
        self.g2.close()


class _JoinValueGetterSupplier(KTableValueGetterSupplier):
    def __init__(self, s: KTableKTableJoin) -> None:
        self.s = s

    def get(self) -> KTableValueGetter:
        return _JoinValueGetter(self.s)

    def store_names(self) -> list[str]:
        return list(self.s.this_getter.store_names()) + list(self.s.other_getter.store_names())


class KTableKTableJoinMerger(KTableProcessorSupplier):
    """KTABLE-MERGE-n: passes both sides' changes on; stores them when the join is materialized."""

    def __init__(self, this: KTableKTableJoin, other: KTableKTableJoin, queryable_name: str | None) -> None:
        self.this = this
        self.other = other
        self.queryable_name = queryable_name
        self.send_old_values = False

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _MergerProcessor(self)

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        self.this.enable_sending_old_values(force_materialization)
        self.other.enable_sending_old_values(force_materialization)
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        if self.queryable_name is not None:
            return KTableMaterializedValueGetterSupplier(self.queryable_name)
        return self.this.view()


class _MergerProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, s: KTableKTableJoinMerger) -> None:
        self.s = s

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        if self.s.queryable_name is not None:
            self.store = TimestampedStore(context, self.s.queryable_name)
            self.forwarder = TimestampedTupleForwarder(self.store.store, context, self.s.send_old_values)

    def process(self, record: Record[Any, Any]) -> None:
        value = record.value
        if self.s.queryable_name is not None:
            self.store.put(record.key, value.new_value, record.timestamp)
            self.forwarder.maybe_forward(record.with_value(change(value.new_value, value.old_value,
                                                                  is_latest(value))))
        elif self.s.send_old_values:
            self.context.forward(record)
        else:
            self.context.forward(record.with_value(change(value.new_value, None, is_latest(value))))
