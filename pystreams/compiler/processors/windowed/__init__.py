"""Windowed aggregations and suppression with Kafka Streams' exact semantics (issue 5)."""
from pystreams.compiler.processors.windowed.suppress import KTableSuppressProcessorSupplier
from pystreams.compiler.processors.windowed.time_window_aggregate import KStreamWindowAggregate
from pystreams.compiler.processors.windowed.time_tracker import TimeTracker

__all__ = ["KStreamWindowAggregate", "KTableSuppressProcessorSupplier", "TimeTracker"]
