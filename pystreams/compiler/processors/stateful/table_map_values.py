"""KTableMapValues: KTable.map_values over Change records (Kafka's KTableMapValues)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from pystreams.compiler.processors.stateful._state_types import make
from pystreams.compiler.processors.stateful.table_value_transform import KTableValueTransform

if TYPE_CHECKING:
    from pystreams.compiler.processors.stateful.table_handle import KTableHandle

ValueMapperWithKey = Callable[[Any, Any], Any]


class KTableMapValues(KTableValueTransform):
    """Supplier of KTABLE-MAPVALUES: maps new and (when sent) old values; None stays None (tombstones).

    `mapper(key, value)` is Kafka's ValueMapperWithKey: the DSL wraps a one-argument map_values function.
    Unlike filter, creating it does not ask the parent for old values (Kafka does not either).
    """

    def __init__(self, parent: KTableHandle, mapper: ValueMapperWithKey, queryable_name: str | None = None) -> None:
        self.mapper = mapper
        super().__init__(parent, queryable_name, send_old_values=False)

    def compute_value(self, key: Any, value: Any) -> Any:
        """mapper(key, value), None for None."""
        return None if value is None else self.mapper(key, value)

    def compute_getter_value(self, key: Any, found: Any) -> Any:
        """The mapped value at the parent's timestamp (a mapped None is a missing key, Kafka's make)."""
        return make(self.mapper(key, found.value), found.timestamp)

    def __repr__(self) -> str:
        return f"KTableMapValues(queryable_name={self.queryable_name!r}, send_old_values={self.send_old_values})"
