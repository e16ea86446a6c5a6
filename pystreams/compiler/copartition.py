"""Co-partitioning of joined inputs (Kafka's copartitionSources + CopartitionedTopicsEnforcer).

Join writers register the source nodes feeding each join as a co-partition group; before tasks are created
the runtime calls check_copartitioning with the real partition counts. Source topics of a group must have
equal counts (else a TopologyError naming the topics); repartition topics in a group take the group's
count, which copartition_counts returns, as Kafka sizes them.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.errors import TopologyError
from pystreams.graph import RepartitionNode, StreamSourceNode, TableSourceNode


class CopartitionError(TopologyError):
    """Joined topics cannot be co-partitioned (different partition counts)."""


def source_nodes(graph: Any, name: str) -> set[str]:
    """Names of the topology source nodes feeding graph node `name` (Kafka's subTopologySourceNodes)."""
    from pystreams.dsl.joins import ForeignKeyJoinNode

    node = graph.node(name)
    if isinstance(node, StreamSourceNode) or isinstance(node, RepartitionNode):
        return {node.name}
    if isinstance(node, TableSourceNode):
        return {node.source_name}
    if isinstance(node, ForeignKeyJoinNode):  # a foreign-key join's result is keyed (and partitioned) like its
        if node.part in ("source", "response_source"):  # left table: the walk stops at its internal sources
            return {node.name}
        if node.part in ("resolver", "result") and node.spec is not None:
            return source_nodes(graph, node.spec.this_table) | {node.spec.response_source_name}
    found: set[str] = set()
    for parent in node.parents:
        found |= source_nodes(graph, parent)
    return found


def register(compiler: Any, *node_names: str) -> None:
    """Record the sources behind these graph nodes as one co-partition group (for a join)."""
    sources: set[str] = set()
    for name in node_names:
        sources |= source_nodes(compiler.graph, name)
    compiler.topology.copartition_sources(sorted(sources))


def copartition_counts(topology: Any, partitions_for: Callable[[str], int | None]) -> dict[str, int]:
    """Check every co-partition group; returns the partition count each repartition topic of a group needs.

    partitions_for(topic) is the topic's partition count (None for topics that do not exist yet, i.e. internal
    repartition topics). Raises CopartitionError naming the topics and counts when source topics differ."""
    needed: dict[str, int] = {}
    for group in topology.copartition_groups():
        counts: dict[str, int] = {}
        internal: list[str] = []
        for source in group:
            for topic in getattr(topology.node(source), "topics", ()) or ():
                if topology.is_internal_topic(topic):
                    internal.append(topic)
                    continue
                n = partitions_for(topic)
                if n is not None:
                    counts[topic] = n
        if len(set(counts.values())) > 1:
            listing = ", ".join(f"{t}={n}" for t, n in sorted(counts.items()))
            raise CopartitionError(f"Following topics do not have the same number of partitions: [{listing}]. "
                                   "Joined topics must be co-partitioned: give them the same partition count, or "
                                   "repartition one side (KStream.repartition / select_key before the join).")
        if counts:
            n = next(iter(counts.values()))
            for topic in internal:
                needed[topic] = max(needed.get(topic, 0), n)
    return needed
