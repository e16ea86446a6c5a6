"""The supplier kinds a KTable can be built from, and the value-getter protocol (Kafka's KTable*Supplier).

Kafka decides at build time which tables send old values and which get materialized; these bases carry
exactly the hooks KTableImpl calls (see table_handle.KTableHandle), so the compiler can replay them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol, Sequence

from pystreams.processor import Processor, ProcessorContext


class KTableValueGetter(Protocol):
    """Looks up a table's current value for a key: from its store, or recomputed through filter/map_values."""

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        """Bind to the stores (through the context of the processor that uses the getter)."""

    def get(self, key: Any) -> Any:
        """The current ValueAndTimestamp for `key`, or None."""

    def close(self) -> None:
        """Release the getter."""


class KTableValueGetterSupplier(ABC):
    """Builds value getters for one table; `store_names()` are the stores a user of the getter must connect."""

    @abstractmethod
    def get(self) -> KTableValueGetter:
        """A fresh getter (one per processor instance)."""

    @abstractmethod
    def store_names(self) -> Sequence[str]:
        """The stores the getter reads: the processor that uses it must be connected to them."""


class _TableSupplier(ABC):
    """A processor supplier whose output is a table: it makes processors and tells how to read it."""

    @abstractmethod
    def __call__(self) -> Processor[Any, Any, Any, Any]:
        """A fresh processor (ProcessorSupplier protocol)."""

    def get(self) -> Processor[Any, Any, Any, Any]:
        """Kafka's name for __call__."""
        return self()

    @abstractmethod
    def view(self) -> KTableValueGetterSupplier:
        """How downstream operators (joins, table lookups) read this table's current values."""


class KTableProcessorSupplier(_TableSupplier):
    """A processor supplier of Change records that is itself a KTable (filter, map_values, table aggregates)."""

    @abstractmethod
    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Ask this table to put old values into its Changes; True when it (now) does.

        With force_materialization False, only succeed when some upstream table is already materialized.
        """


class KStreamAggProcessorSupplier(_TableSupplier):
    """A stream aggregation (count/reduce/aggregate, later windowed ones): a KTable that always has a store."""

    @abstractmethod
    def enable_sending_old_values(self) -> None:
        """Put the previous aggregate into forwarded Changes (needed by downstream table group_by etc.)."""
