"""The shared machinery of KTable.filter and KTable.map_values: a per-key value function over Changes.

Both compute the new (and, when asked, the old) value of each Change with one function, keep the
result in their own store when materialized, and otherwise serve downstream getters by applying the
function to the parent's current value on the fly. Subclasses say only how a value is computed.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, Sequence

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


class KTableValueTransform(KTableProcessorSupplier):
    """A KTable whose values are a function of its parent's values per key (filter, map_values).

    `queryable_name` is the store when the result is materialized. `drops_empty_changes`: when old
    values are sent, a Change that is None before and after is not forwarded at all (filter does this).
    """

    drops_empty_changes = False

    def __init__(self, parent: KTableHandle, queryable_name: str | None, send_old_values: bool) -> None:
        self.parent = parent
        self.queryable_name = queryable_name
        self.send_old_values = send_old_values

    @abstractmethod
    def compute_value(self, key: Any, value: Any) -> Any:
        """The result for one plain parent value (None for None: a tombstone stays a tombstone)."""

    @abstractmethod
    def compute_getter_value(self, key: Any, found: Any) -> Any:
        """The ValueAndTimestamp a getter returns for the parent's non-None ValueAndTimestamp `found`."""

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        if self.queryable_name is not None:
            self.send_old_values = True
            return True
        if self.parent.enable_sending_old_values(force_materialization):
            self.send_old_values = True
        return self.send_old_values

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _ValueTransformProcessor(self, self.queryable_name, self.send_old_values)

    def view(self) -> KTableValueGetterSupplier:
        if self.queryable_name is not None:
            return KTableMaterializedValueGetterSupplier(self.queryable_name)
        return _ValueTransformGetterSupplier(self, self.parent.value_getter_supplier())


class _ValueTransformProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, owner: KTableValueTransform, queryable_name: str | None, send_old_values: bool) -> None:
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
        if (self._owner.drops_empty_changes and self._send_old_values
                and old_value is None and new_value is None):
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


class _ValueTransformGetterSupplier(KTableValueGetterSupplier):
    """A non-materialized table reads its parent's value and applies its function on the fly."""

    def __init__(self, owner: KTableValueTransform, parent: KTableValueGetterSupplier) -> None:
        self._owner = owner
        self._parent = parent

    def get(self) -> KTableValueGetter:
        return _ValueTransformGetter(self._owner, self._parent.get())

    def store_names(self) -> Sequence[str]:
        return self._parent.store_names()


class _ValueTransformGetter:
    def __init__(self, owner: KTableValueTransform, parent: KTableValueGetter) -> None:
        self._owner = owner
        self._parent = parent

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._parent.init(context)

    def get(self, key: Any) -> Any:
        found = self._parent.get(key)
        return None if found is None else self._owner.compute_getter_value(key, found)

    def close(self) -> None:
        self._parent.close()
