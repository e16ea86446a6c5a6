"""KTableMapValues: KTable.map_values over Change records (Kafka's KTableMapValues)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from pystreams.compiler.processors.stateful._state_types import ValueAndTimestamp, change, is_latest, value_or_none
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

ValueMapperWithKey = Callable[[Any, Any], Any]


class KTableMapValues(KTableProcessorSupplier):
    """Supplier of KTABLE-MAPVALUES: maps new and (when sent) old values; None stays None (tombstones).

    `mapper(key, value)` is Kafka's ValueMapperWithKey: the DSL wraps a one-argument map_values function.
    Unlike filter, creating it does not ask the parent for old values (Kafka does not either).
    """

    def __init__(self, parent: KTableHandle, mapper: ValueMapperWithKey, queryable_name: str | None = None) -> None:
        self.parent = parent
        self.mapper = mapper
        self.queryable_name = queryable_name
        self.send_old_values = False

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        if self.queryable_name is not None:
            self.send_old_values = True
            return True
        if self.parent.enable_sending_old_values(force_materialization):
            self.send_old_values = True
        return self.send_old_values

    def compute_value(self, key: Any, value: Any) -> Any:
        """mapper(key, value), None for None."""
        return None if value is None else self.mapper(key, value)

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _KTableMapValuesProcessor(self, self.queryable_name, self.send_old_values)

    def view(self) -> KTableValueGetterSupplier:
        if self.queryable_name is not None:
            return KTableMaterializedValueGetterSupplier(self.queryable_name)
        return _MapValuesValueGetterSupplier(self, self.parent.value_getter_supplier())

    def __repr__(self) -> str:
        return f"KTableMapValues(queryable_name={self.queryable_name!r}, send_old_values={self.send_old_values})"


class _KTableMapValuesProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, owner: KTableMapValues, queryable_name: str | None, send_old_values: bool) -> None:
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


class _MapValuesValueGetterSupplier(KTableValueGetterSupplier):
    """A non-materialized map_values reads its parent's value and maps it on the fly."""

    def __init__(self, owner: KTableMapValues, parent: KTableValueGetterSupplier) -> None:
        self._owner = owner
        self._parent = parent

    def get(self) -> KTableValueGetter:
        return _MapValuesValueGetter(self._owner, self._parent.get())

    def store_names(self) -> Sequence[str]:
        return self._parent.store_names()


class _MapValuesValueGetter:
    def __init__(self, owner: KTableMapValues, parent: KTableValueGetter) -> None:
        self._owner = owner
        self._parent = parent

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._parent.init(context)

    def get(self, key: Any) -> Any:
        # Kafka maps a missing parent value to make(null, 0) == null: a missing key stays missing
        found = self._parent.get(key)
        if found is None:
            return None
        mapped = self._owner.mapper(key, found.value)
        return None if mapped is None else ValueAndTimestamp(mapped, found.timestamp)

    def close(self) -> None:
        self._parent.close()
