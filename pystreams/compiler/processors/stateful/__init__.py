"""Processors behind the stateful DSL (KTable changes, aggregations, table re-keying), Kafka Streams' semantics.
Imports pystreams.processor, pystreams.state, pystreams.serdes and pystreams.errors only (never dsl/graph/testing)."""
from pystreams.compiler.processors.stateful.changed_serde import (
    ChangedDeserializer,
    ChangedSerde,
    ChangedSerializer,
)
from pystreams.compiler.processors.stateful.errors import StatefulProcessingError
from pystreams.compiler.processors.stateful.stream_aggregate import (
    KStreamAggregate,
    KStreamReduce,
    count_aggregator,
    count_initializer,
)
from pystreams.compiler.processors.stateful.suppliers import (
    KStreamAggProcessorSupplier,
    KTableProcessorSupplier,
    KTableValueGetter,
    KTableValueGetterSupplier,
)
from pystreams.compiler.processors.stateful.table_aggregate import (
    KTableAggregate,
    KTableReduce,
    count_subtractor,
)
from pystreams.compiler.processors.stateful.table_filter import KTableFilter
from pystreams.compiler.processors.stateful.table_handle import KTableHandle
from pystreams.compiler.processors.stateful.table_map_values import KTableMapValues
from pystreams.compiler.processors.stateful.table_repartition_map import KTableRepartitionMap
from pystreams.compiler.processors.stateful.table_source import KTableSource
from pystreams.compiler.processors.stateful.table_to_stream import KTableToStream
from pystreams.compiler.processors.stateful.value_getters import (
    KTableMaterializedValueGetterSupplier,
    KTableSourceValueGetterSupplier,
)

__all__ = [
    "ChangedDeserializer", "ChangedSerde", "ChangedSerializer", "KStreamAggProcessorSupplier",
    "KStreamAggregate", "KStreamReduce", "KTableAggregate", "KTableFilter", "KTableHandle",
    "KTableMapValues", "KTableMaterializedValueGetterSupplier", "KTableProcessorSupplier",
    "KTableReduce", "KTableRepartitionMap", "KTableSource", "KTableSourceValueGetterSupplier",
    "KTableToStream", "KTableValueGetter", "KTableValueGetterSupplier", "StatefulProcessingError",
    "count_aggregator", "count_initializer", "count_subtractor",
]
