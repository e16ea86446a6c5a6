"""topology.optimization: which rewrites apply (Kafka's StreamsConfig values and rules)."""
from __future__ import annotations

from typing import Any

from dataclasses import replace

from pystreams.errors import ConfigError, TopologyError
from pystreams.graph import LogicalGraph, RepartitionNode, StreamSourceNode

TOPOLOGY_OPTIMIZATION_CONFIG = "topology.optimization"
NO_OPTIMIZATION = "none"
OPTIMIZE = "all"
REUSE_KTABLE_SOURCE_TOPICS = "reuse.ktable.source.topics"
MERGE_REPARTITION_TOPICS = "merge.repartition.topics"
SINGLE_STORE_SELF_JOIN = "single.store.self.join"
_RULES = (REUSE_KTABLE_SOURCE_TOPICS, MERGE_REPARTITION_TOPICS, SINGLE_STORE_SELF_JOIN)


def rules(props: dict[str, Any] | None) -> set[str]:
    """The enabled rules for a config value: "all", "none", or a comma list of rule names."""
    value = (props or {}).get(TOPOLOGY_OPTIMIZATION_CONFIG)
    if value is None:
        return set()
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    if parts == [OPTIMIZE]:
        return set(_RULES)
    if parts == [NO_OPTIMIZATION] or not parts:
        return set()
    unknown = [p for p in parts if p not in _RULES]
    if unknown or OPTIMIZE in parts or NO_OPTIMIZATION in parts:
        raise ConfigError(f"Unrecognized config {TOPOLOGY_OPTIMIZATION_CONFIG}={value!r}: use "
                          f"'{OPTIMIZE}', '{NO_OPTIMIZATION}' or a comma list of {', '.join(_RULES)}.")
    return set(parts)


def enabled(props: dict[str, Any] | None, rule: str) -> bool:
    """Whether `rule` is on."""
    return rule in rules(props)


def merge_duplicate_sources(graph: LogicalGraph) -> LogicalGraph:
    """Kafka's mergeDuplicateSourceNodes: builder.stream() twice on the same topics (or pattern) is
    one source node; the later node's children move to the first. Overlapping but unequal topic
    sets are an error, as in Kafka."""
    by_topic: dict[str, StreamSourceNode] = {}
    by_pattern: dict[str, StreamSourceNode] = {}
    replaced: dict[str, str] = {}
    for node in graph:
        if not isinstance(node, StreamSourceNode):
            continue
        main: StreamSourceNode | None = None
        if node.pattern is not None:
            main = by_pattern.setdefault(node.pattern, node)
        else:
            for topic in node.topics:
                first = by_topic.setdefault(topic, node)
                if first is not node:
                    if first.topics != node.topics:
                        raise TopologyError(f"Two source nodes are subscribed to overlapping but not equal "
                                            f"input topics: {list(first.topics)} ({first.name}) and "
                                            f"{list(node.topics)} ({node.name}). Fix: read each topic in "
                                            "exactly one builder.stream() call and reuse that KStream.")
                    main = first
        if main is not None and main is not node:
            if main.offset_reset != node.offset_reset:
                raise TopologyError(f"Can't configure different offset reset policies on the same input "
                                    f"topic(s): {node.name} and {main.name}.")
            replaced[node.name] = main.name
    if not replaced:
        return graph
    nodes = []
    for node in graph:
        if node.name in replaced:
            continue
        if any(p in replaced for p in node.parents):
            parents = [p for p in node.parents if p not in replaced]
            for p in node.parents:
                if p in replaced and replaced[p] not in parents:
                    parents.append(replaced[p])
            node = replace(node, parents=tuple(parents))
        nodes.append(node)
    return graph.replace(tuple(nodes))


def drop_null_keys_before_repartition(graph: LogicalGraph) -> LogicalGraph:
    """Kafka's rewriteRepartitionNodes: a repartition's filter drops null keys, unless some node
    downstream is a join that accepts null keys (graph nodes with `null_key_relaxed_join`)."""
    children: dict[str, list[str]] = {n.name: [] for n in graph}
    for node in graph:
        for parent in node.parents:
            children[parent].append(node.name)
    relaxed: dict[str, bool] = {}  # a null-key-relaxed join somewhere downstream
    for node in reversed(graph.nodes):  # children come after their parents
        relaxed[node.name] = any(getattr(graph.node(c), "null_key_relaxed_join", False) or relaxed[c]
                                 for c in children[node.name])

    def has_relaxed_downstream(name: str) -> bool:
        return relaxed[name]

    nodes = []
    for node in graph:
        if isinstance(node, RepartitionNode) and node.filter_name is not None:
            node = replace(node, drop_null_keys=not has_relaxed_downstream(node.name))
        nodes.append(node)
    return graph.replace(tuple(nodes))


def optimize(graph: LogicalGraph, props: dict[str, Any] | None) -> LogicalGraph:
    """Apply graph rewrites: duplicate sources always (as Kafka), merging repartition topics when
    enabled, then null-key filters ahead of repartition topics; source-topic reuse happens while
    writing."""
    graph = merge_duplicate_sources(graph)
    if enabled(props, MERGE_REPARTITION_TOPICS):
        from pystreams.compiler.merge_repartitions import merge_repartition_topics

        graph = merge_repartition_topics(graph)
    return drop_null_keys_before_repartition(graph)
