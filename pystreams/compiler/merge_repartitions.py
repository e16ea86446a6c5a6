"""merge.repartition.topics: one repartition topic per key-changing operation (Kafka's
InternalStreamsBuilder.mergeRepartitionTopics)."""
from __future__ import annotations

from pystreams.graph import LogicalGraph


def merge_repartition_topics(graph: LogicalGraph) -> LogicalGraph:
    """Placeholder until the rewrite lands: returns the graph unchanged."""
    return graph
