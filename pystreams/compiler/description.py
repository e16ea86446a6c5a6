"""TopologyDescription: the text Kafka Streams prints for Topology#describe(), byte for byte.

Mirrors InternalTopologyBuilder#describe: node order is "largest sub-tree first, then name",
with sub-tree sizes accumulated in java.util.HashMap order; successor/predecessor lists are
TreeSets filled while sizes still change; store and topic sets print in HashSet order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from pystreams.compiler.java_order import (JavaTreeSet, hash_order, hash_set_copy_order,
                                           java_set_string)

if TYPE_CHECKING:
    from pystreams.compiler.topology import Topology


@dataclass(eq=False)
class _Node:
    name: str
    size: int = 1
    predecessors: JavaTreeSet[DescribedNode] = field(init=False)
    successors: JavaTreeSet[DescribedNode] = field(init=False)

    def __post_init__(self) -> None:
        self.predecessors = JavaTreeSet(_compare_nodes)
        self.successors = JavaTreeSet(_compare_nodes)


@dataclass(eq=False)
class SourceDescription(_Node):
    """A source node: topics (in Java HashSet order) or a pattern."""

    topics: list[str] | None = None
    pattern: str | None = None

    def __str__(self) -> str:
        topics = self.pattern if self.topics is None else java_set_string(self.topics)
        return f"Source: {self.name} (topics: {topics})\n      --> {_names(self.successors)}"


@dataclass(eq=False)
class ProcessorDescription(_Node):
    """A processor node and the stores it is connected to."""

    stores: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"Processor: {self.name} (stores: {java_set_string(self.stores)})\n      --> "
                f"{_names(self.successors)}\n      <-- {_names(self.predecessors)}")


@dataclass(eq=False)
class SinkDescription(_Node):
    """A sink node: a fixed topic, or a topic-name extractor (printed by its qualified name)."""

    topic: str | None = None
    extractor: str | None = None

    def __str__(self) -> str:
        if self.topic is not None:
            return f"Sink: {self.name} (topic: {self.topic})\n      <-- {_names(self.predecessors)}"
        return (f"Sink: {self.name} (extractor class: {self.extractor})\n      <-- "
                f"{_names(self.predecessors)}")


DescribedNode = Union[SourceDescription, ProcessorDescription, SinkDescription]


def _compare_nodes(a: DescribedNode, b: DescribedNode) -> int:
    if a is b:
        return 0
    if a.size != b.size:
        return b.size - a.size
    return (a.name > b.name) - (a.name < b.name)


def _names(nodes: JavaTreeSet[DescribedNode]) -> str:
    if len(nodes) == 0:
        return "none"
    return ", ".join(n.name for n in nodes)


@dataclass
class SubtopologyDescription:
    """One sub-topology: its id and nodes in Kafka's print order."""

    id: int
    nodes: list[DescribedNode]

    def __str__(self) -> str:
        body = "".join(f"    {node}\n" for node in self.nodes)
        return f"Sub-topology: {self.id}\n{body}\n"


@dataclass
class GlobalStoreDescription:
    """A global store's source -> processor pair; it gets an id but generates no tasks."""

    id: int
    source: SourceDescription
    processor: ProcessorDescription

    def __str__(self) -> str:
        return (f"Sub-topology: {self.id} for global store (will not generate tasks)\n"
                f"    {self.source}\n    {self.processor}\n")


@dataclass
class TopologyDescription:
    """What Topology.describe() returns; str() is Kafka Streams' text."""

    subtopologies: list[SubtopologyDescription]
    global_stores: list[GlobalStoreDescription]

    def __str__(self) -> str:
        parts = ["Topologies:\n "]
        subs = sorted(self.subtopologies, key=lambda s: s.id)
        globs = sorted(self.global_stores, key=lambda g: g.id)
        expected = 0
        si = gi = 0
        while si < len(subs) and gi < len(globs):
            parts.append("  ")
            if subs[si].id == expected:
                parts.append(str(subs[si]))
                si += 1
            else:
                parts.append(str(globs[gi]))
                gi += 1
            expected += 1
        parts.extend("  " + str(s) for s in subs[si:])
        parts.extend("  " + str(g) for g in globs[gi:])
        return "".join(parts)

    def __repr__(self) -> str:
        return str(self)


def _update_size(node: DescribedNode, delta: int) -> None:
    """Kafka's recursive updateSize (every path up adds delta), without Python's recursion limit."""
    stack = [node]
    while stack:
        current = stack.pop()
        current.size += delta
        stack.extend(current.predecessors)


def _describe_node(topology: Topology, name: str) -> DescribedNode:
    node = topology.node(name)
    if node.kind == "source":
        topics = list(getattr(node, "topics"))
        pattern = getattr(node, "pattern")
        return SourceDescription(name, topics=hash_set_copy_order(topics) if topics else None,
                                 pattern=pattern.pattern if isinstance(pattern, re.Pattern) else pattern)
    if node.kind == "processor":
        return ProcessorDescription(name, stores=hash_set_copy_order(hash_order(node.stores)))
    topic = getattr(node, "topic")
    extractor = getattr(node, "topic_extractor")
    return SinkDescription(name, topic=topic, extractor=None if topic is not None else _qualname(extractor))


def _qualname(obj: object) -> str:
    target = obj if callable(obj) and hasattr(obj, "__qualname__") else type(obj)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


def describe(topology: Topology) -> TopologyDescription:
    """Build the description of a topology, as InternalTopologyBuilder#describe does."""
    subtopologies: list[SubtopologyDescription] = []
    global_stores: list[GlobalStoreDescription] = []
    for group_id, names in topology.node_groups():
        global_source = next((n for n in names if topology.is_global_source(n)), None)
        if global_source is not None:
            processor_name = next(n for n in names if n != global_source)
            source_node = topology.node(global_source)
            processor_node = topology.node(processor_name)
            source = SourceDescription(global_source, topics=list(getattr(source_node, "topics")))
            processor = ProcessorDescription(processor_name, stores=[processor_node.stores[0]])
            source.successors.add(processor)
            processor.predecessors.add(source)
            global_stores.append(GlobalStoreDescription(group_id, source, processor))
            continue
        # HashSet<String> of the group, copied into a HashMap: iteration in hash order.
        ordered = hash_order(names)
        by_name = {name: _describe_node(topology, name) for name in ordered}
        for described in by_name.values():
            for parent_name in topology.node(described.name).parents:
                parent = by_name[parent_name]
                described.predecessors.add(parent)
                parent.successors.add(described)
                _update_size(parent, described.size)
        nodes = sorted(by_name.values(), key=lambda n: (-n.size, n.name))
        subtopologies.append(SubtopologyDescription(group_id, nodes))
    return TopologyDescription(subtopologies, global_stores)
