"""KTableFilter: KTable.filter / filter_not over Change records (Kafka's KTableFilter)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from pystreams.compiler.processors.stateful._state_types import change, is_latest, value_or_none
from pystreams.compiler.processors.stateful.forwarding import TimestampedStore, TimestampedTupleForwarder
from pystreams.compiler.processors.stateful.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetter,
    KTableValueGetterSupplier,
)
from pystreams.compiler.processors.stateful.value_getters import KTableMaterializedValueGetterSupplier
from pystreams.processor import Processor, ProcessorContext, Record

if TYPE_CHECKING:
    from pystreams.compiler.processors.stateful.table_handle import KTableHandle

Predicate = Callable[[Any, Any], bool]


class KTableFilter(KTableProcessorSupplier):
    """Supplier of KTABLE-FILTER: a filtered-out or deleted key becomes a tombstone Change(None, old).

    `parent` is the handle of the table being filtered; `predicate(key, value)`; `filter_not` inverts it;
    `queryable_name` is the store when the result is materialized. Creating the filter asks the parent to
    send old values if it is already materialized (so no needless tombstones), exactly as Kafka does.
    """

    def __init__(self, parent: KTableHandle, predicate: Predicate, filter_not: bool = False,
                 queryable_name: str | None = None) -> None:
        self.parent = parent
        self.predicate = predicate
        self.filter_not = filter_not
        self.queryable_name = queryable_name
        self.send_old_values = parent.enable_sending_old_values(False)

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        if self.queryable_name is not None:
            self.send_old_values = True
            return True
        if self.parent.enable_sending_old_values(force_materialization):
            self.send_old_values = True
        return self.send_old_values

    def compute_value(self, key: Any, value: Any) -> Any:
        """The value if it passes (None otherwise, and for None)."""
        if value is not None and (self.filter_not ^ bool(self.predicate(key, value))):
            return value
        return None

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _KTableFilterProcessor(self, self.queryable_name, self.send_old_values)

    def view(self) -> KTableValueGetterSupplier:
        if self.queryable_name is not None:
            return KTableMaterializedValueGetterSupplier(self.queryable_name)
        return _FilterValueGetterSupplier(self, self.parent.value_getter_supplier())

    def __repr__(self) -> str:
        return (f"KTableFilter(filter_not={self.filter_not}, queryable_name={self.queryable_name!r}, "
                f"send_old_values={self.send_old_values})")


class _KTableFilterProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, owner: KTableFilter, queryable_name: str | None, send_old_values: bool) -> None:
        self._owner = owner
        self._queryable_name = queryable_name
        self._send_old_values = send_old_values
        self._store: TimestampedStore | None = None
        self._forwarder: TimestampedTupleForwarder | None = None

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context
        if self._queryable_name is not None:
            self._store = TimestampedStore(context, self._queryable_name)
            self._forwarder = TimestampedTupleForwarder(self._store.store, context, self._send_old_values)

    def process(self, record: Record[Any, Any]) -> None:
        key, chg = record.key, record.value
        new_value = self._owner.compute_value(key, chg.new_value)
        old_value = self._compute_old_value(key, chg)
        if self._send_old_values and old_value is None and new_value is None:
            return  # nothing was there and nothing is: no tombstone needed
        if self._store is not None and self._forwarder is not None:
            self._store.put(key, new_value, record.timestamp)
            self._forwarder.maybe_forward(record.with_value(change(new_value, old_value)))
        else:
            self._context.forward(record.with_value(change(new_value, old_value, is_latest(chg))))

    def _compute_old_value(self, key: Any, chg: Any) -> Any:
        if not self._send_old_values:
            return None
        if self._store is not None:
            return value_or_none(self._store.get(key))
        return self._owner.compute_value(key, chg.old_value)


class _FilterValueGetterSupplier(KTableValueGetterSupplier):
    """A non-materialized filter reads its parent's value and applies the predicate on the fly."""

    def __init__(self, owner: KTableFilter, parent: KTableValueGetterSupplier) -> None:
        self._owner = owner
        self._parent = parent

    def get(self) -> KTableValueGetter:
        return _FilterValueGetter(self._owner, self._parent.get())

    def store_names(self) -> Sequence[str]:
        return self._parent.store_names()


class _FilterValueGetter:
    def __init__(self, owner: KTableFilter, parent: KTableValueGetter) -> None:
        self._owner = owner
        self._parent = parent

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._parent.init(context)

    def get(self, key: Any) -> Any:
        found = self._parent.get(key)
        if found is not None and (self._owner.filter_not ^ bool(self._owner.predicate(key, found.value))):
            return found
        return None

    def close(self) -> None:
        self._parent.close()
