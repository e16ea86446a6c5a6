"""KTableHandle: the compiler's per-KTable bookkeeping that decides old values and materialization.

Kafka makes these decisions while the DSL is being built (KTableImpl.enableSendingOldValues /
valueGetterSupplier mutate the processor suppliers). Our graph is immutable, so the compiler replays
the DSL calls on handles IN THE ORDER THE USER MADE THEM (Kafka's results depend on that order, e.g. a
filter created before its source became materialized does not send old values); the suppliers'
final flags are read when the engine instantiates processors.
"""
from __future__ import annotations

from typing import Any

from pystreams.compiler.processors.stateful.suppliers import (
    KStreamAggProcessorSupplier,
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
)
from pystreams.compiler.processors.stateful.table_source import KTableSource
from pystreams.compiler.processors.stateful.value_getters import KTableSourceValueGetterSupplier
from pystreams.errors import TopologyError


class KTableHandle:
    """One KTable of the topology: its processor supplier and whether it already sends old values."""

    def __init__(self, supplier: Any, name: str | None = None) -> None:
        if not isinstance(supplier, (KTableSource, KStreamAggProcessorSupplier, KTableProcessorSupplier)):
            raise TopologyError(
                f"KTable {name or ''} must be produced by a KTable processor supplier, got {type(supplier).__name__}")
        self.supplier = supplier
        self.name = name
        self.send_old_values = False

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Make this table send old values; without force, only if it or an upstream table is materialized."""
        if self.send_old_values:
            return True
        supplier = self.supplier
        if isinstance(supplier, KTableSource):
            if not force_materialization and not supplier.materialized:
                return False
            supplier.enable_sending_old_values()
        elif isinstance(supplier, KStreamAggProcessorSupplier):
            supplier.enable_sending_old_values()
        elif not supplier.enable_sending_old_values(force_materialization):
            return False
        self.send_old_values = True
        return True

    def value_getter_supplier(self) -> KTableValueGetterSupplier:
        """How to read this table's values; a source table gets materialized by asking."""
        supplier = self.supplier
        if isinstance(supplier, KTableSource):
            supplier.materialize()
            assert supplier.queryable_name is not None
            return KTableSourceValueGetterSupplier(supplier.queryable_name)
        return supplier.view()

    def __repr__(self) -> str:
        return f"KTableHandle({self.name!r}, {self.supplier!r}, send_old_values={self.send_old_values})"
