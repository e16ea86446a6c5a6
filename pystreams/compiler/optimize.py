"""topology.optimization: which rewrites apply (Kafka's StreamsConfig values and rules)."""
from __future__ import annotations

from typing import Any

from pystreams.errors import ConfigError
from pystreams.graph import LogicalGraph

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


def optimize(graph: LogicalGraph, props: dict[str, Any] | None) -> LogicalGraph:
    """Apply graph rewrites (merging repartition topics); source-topic reuse happens while writing."""
    if enabled(props, MERGE_REPARTITION_TOPICS):
        from pystreams.compiler.merge_repartitions import merge_repartition_topics

        graph = merge_repartition_topics(graph)
    return graph
