"""KTableFilter: KTable.filter / filter_not over Change records (Kafka's KTableFilter)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from pystreams.compiler.processors.stateful.table_value_transform import KTableValueTransform

if TYPE_CHECKING:
    from pystreams.compiler.processors.stateful.table_handle import KTableHandle

Predicate = Callable[[Any, Any], bool]


class KTableFilter(KTableValueTransform):
    """Supplier of KTABLE-FILTER: a filtered-out or deleted key becomes a tombstone Change(None, old).

    `parent` is the handle of the table being filtered; `predicate(key, value)`; `filter_not` inverts it;
    `queryable_name` is the store when the result is materialized. Creating the filter asks the parent to
    send old values if it is already materialized (so no needless tombstones), exactly as Kafka does.
    """

    drops_empty_changes = True

    def __init__(self, parent: KTableHandle, predicate: Predicate, filter_not: bool = False,
                 queryable_name: str | None = None) -> None:
        self.predicate = predicate
        self.filter_not = filter_not
        super().__init__(parent, queryable_name, parent.enable_sending_old_values(False))

    def _passes(self, key: Any, value: Any) -> bool:
        return self.filter_not ^ bool(self.predicate(key, value))

    def compute_value(self, key: Any, value: Any) -> Any:
        """The value if it passes (None otherwise, and for None)."""
        if value is not None and self._passes(key, value):
            return value
        return None

    def compute_getter_value(self, key: Any, found: Any) -> Any:
        """The parent's ValueAndTimestamp itself when its value passes."""
        return found if self._passes(key, found.value) else None

    def __repr__(self) -> str:
        return (f"KTableFilter(filter_not={self.filter_not}, queryable_name={self.queryable_name!r}, "
                f"send_old_values={self.send_old_values})")
