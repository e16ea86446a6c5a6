"""Value getters that read a table's own store (source tables, materialized filter/map_values, aggregates)."""
from __future__ import annotations

from typing import Any, Sequence

from pystreams.compiler.processors.stateful.errors import StatefulProcessingError
from pystreams.compiler.processors.stateful.forwarding import TimestampedStore
from pystreams.compiler.processors.stateful.suppliers import KTableValueGetter, KTableValueGetterSupplier
from pystreams.processor import ProcessorContext


class _StoreValueGetter:
    """Reads ValueAndTimestamps straight from a timestamped store."""

    def __init__(self, store_name: str) -> None:
        self._store_name = store_name
        self._store: TimestampedStore | None = None

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._store = TimestampedStore(context, self._store_name)

    def get(self, key: Any) -> Any:
        if self._store is None:
            raise StatefulProcessingError(f"value getter for store {self._store_name!r} used before init()")
        return self._store.get(key)

    def close(self) -> None:
        pass


class KTableMaterializedValueGetterSupplier(KTableValueGetterSupplier):
    """Getters for a table that has its own store (materialized filter/map_values, aggregates)."""

    def __init__(self, store_name: str) -> None:
        self.store_name = store_name

    def get(self) -> KTableValueGetter:
        return _StoreValueGetter(self.store_name)

    def store_names(self) -> Sequence[str]:
        return [self.store_name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store_name!r})"


class KTableSourceValueGetterSupplier(KTableMaterializedValueGetterSupplier):
    """Getters for a source table (table()/to_table()); asking for one materializes the source."""
