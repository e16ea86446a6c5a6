"""Topology: the Processor-API-level graph of sources, processors, sinks and state stores.

This is what the DSL compiles to and what the task engine (pystreams.processor.internals) and the
TopologyTestDriver run, through the introspection methods below (duck typing). Rules and error
cases follow Kafka Streams' InternalTopologyBuilder; internal topics are registered without the
"<application.id>-" prefix, which the runtime adds (as Kafka does).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pystreams.errors import TopologyError

if TYPE_CHECKING:  # loads on the first describe(): an app that never describes its topology skips it (7 dataclasses)
    from pystreams.compiler.description import TopologyDescription

ProcessorSupplier = Callable[[], Any]
TopicExtractor = Callable[[Any, Any, Any], str]


class TopologyException(TopologyError):
    """Kafka's TopologyException: the topology is invalid; the message names the node and the fix."""


@dataclass
class Node:
    """A node of the topology; parents/children are node names, children in the order added."""

    name: str
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    kind: str = ""
    origin: str = ""      # the DSL operation this node came from, for error messages
    serde_fix: str = ""   # where the user sets this node's serdes (e.g. "Consumed(key_serde=...)")


@dataclass
class SourceNode(Node):
    """Reads topics (or a pattern) and deserializes with its serdes (None = app defaults)."""

    topics: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: Any = None
    offset_reset: str | None = None
    kind: str = "source"


@dataclass
class ProcessorNode(Node):
    """Runs a fresh Processor from `supplier` per task."""

    supplier: ProcessorSupplier | None = None
    kind: str = "processor"


@dataclass
class SinkNode(Node):
    """Writes to a fixed topic or to the topic chosen by topic_extractor(key, value, record_context)."""

    topic: str | None = None
    topic_extractor: TopicExtractor | None = None
    key_serde: Any = None
    value_serde: Any = None
    partitioner: Any = None
    kind: str = "sink"


@dataclass(frozen=True)
class SubTopology:
    """One group of connected nodes; the engine creates one task per (sub-topology, partition)."""

    id: int
    node_names: tuple[str, ...]
    source_topics: tuple[str, ...]
    sink_topics: tuple[str, ...]
    store_names: tuple[str, ...]
    source_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class InternalTopic:
    """A repartition topic the topology owns; partitions None = as many as its upstream input."""

    name: str
    partitions: int | None = None


def check_supplier(supplier: ProcessorSupplier, where: str) -> None:
    """Kafka's ApiUtils.checkSupplier: a supplier must build a NEW processor on every call (one per
    task); handing out one shared instance would share its state across tasks."""
    if isinstance(supplier, type):
        return  # a class builds a new instance per call
    first, second = supplier(), supplier()
    if first is second and first is not None:
        raise TopologyException(f"{where}: the supplier returned the same Processor instance twice; it "
                                "must return a new object each time it is called (pass the Processor "
                                "class, or `lambda: MyProcessor(...)`).")


class _QuickUnion:
    """Kafka's QuickUnion: which nodes end up in the same sub-topology."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def add(self, item: str) -> None:
        self._ids[item] = item

    def root(self, item: str) -> str:
        current = item
        parent = self._ids[current]
        while parent != current:
            grandparent = self._ids[parent]
            self._ids[current] = grandparent
            current, parent = parent, grandparent
        return current

    def unite(self, item: str, *others: str) -> None:
        for other in others:
            root1, root2 = self.root(item), self.root(other)
            if root1 != root2:
                self._ids[root1] = root2


class Topology:
    """A processing topology built with the Processor API (or compiled from the DSL)."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._grouper = _QuickUnion()
        self._store_builders: dict[str, Any] = {}
        self._store_users: dict[str, list[str]] = {}
        self._global_store_builders: dict[str, Any] = {}
        self._global_topics: list[str] = []
        self._raw_source_topics: list[str] = []
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._internal_topics: dict[str, InternalTopic] = {}
        self._source_changelogs: dict[str, str] = {}
        self._copartition_groups: list[list[str]] = []
        self.logical_graph: Any = None  # the DSL graph this was compiled from, if any

    # ------------------------------------------------------------------ building
    def add_source(self, name: str, *topics: str, pattern: str | re.Pattern[str] | None = None,
                   key_serde: Any = None, value_serde: Any = None, timestamp_extractor: Any = None,
                   offset_reset: str | None = None) -> Topology:
        """Add a source reading `topics` (or every topic matching `pattern`)."""
        self._check_new_name(name)
        if topics and pattern is not None:
            raise TopologyException(f"Source {name}: give topics or a pattern, not both.")
        compiled: re.Pattern[str] | None = None
        if pattern is not None:
            compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
            for topic in self._raw_source_topics:
                if compiled.fullmatch(topic):
                    raise TopologyException(f"Pattern {compiled.pattern} will match a topic that has "
                                            "already been registered by another source.")
        elif not topics:
            raise TopologyException(f"Source {name}: you must provide at least one topic.")
        for topic in topics:
            self._check_topic_free(topic)
            self._raw_source_topics.append(topic)
        if compiled is not None:
            self._patterns[name] = compiled
        self._nodes[name] = SourceNode(name, topics=list(topics), pattern=compiled, key_serde=key_serde,
                                       value_serde=value_serde, timestamp_extractor=timestamp_extractor,
                                       offset_reset=offset_reset)
        self._grouper.add(name)
        return self

    def add_processor(self, name: str, supplier: ProcessorSupplier, *parent_names: str) -> Topology:
        """Add a processor; `supplier()` must return a new Processor each call (one per task)."""
        self._check_new_name(name)
        if not callable(supplier):
            raise TopologyException(f"Processor {name}: the supplier must be callable and return a "
                                    "new Processor each time (e.g. the Processor class itself).")
        check_supplier(supplier, f"Processor {name}")
        self._check_parents(name, parent_names, "Processor")
        self._nodes[name] = ProcessorNode(name, parents=list(parent_names), supplier=supplier)
        self._link(name, parent_names)
        return self

    def add_sink(self, name: str, topic_or_extractor: str | TopicExtractor, *parent_names: str,
                 key_serde: Any = None, value_serde: Any = None, partitioner: Any = None) -> Topology:
        """Add a sink writing to a topic, or to the topic an extractor picks per record."""
        self._check_new_name(name)
        self._check_parents(name, parent_names, "Sink")
        topic = topic_or_extractor if isinstance(topic_or_extractor, str) else None
        extractor = None if isinstance(topic_or_extractor, str) else topic_or_extractor
        if topic is None and not (callable(extractor) or callable(getattr(extractor, "extract", None))):
            raise TopologyException(f"Sink {name}: give a topic name, a callable (key, value, "
                                    "record_context) -> topic, or a TopicNameExtractor (with .extract).")
        self._nodes[name] = SinkNode(name, parents=list(parent_names), topic=topic,
                                     topic_extractor=extractor, key_serde=key_serde,
                                     value_serde=value_serde, partitioner=partitioner)
        self._link(name, parent_names)
        return self

    def add_state_store(self, store_builder: Any, *processor_names: str) -> Topology:
        """Register a store (a StoreBuilder) and connect it to the given processors."""
        store_name = store_builder.name
        existing = self._store_builders.get(store_name)
        if existing is not None and existing is not store_builder:
            raise TopologyException(f"A different StateStore has already been added with the name "
                                    f"{store_name}; give each store a unique name.")
        if store_name in self._global_store_builders:
            raise TopologyException(f"A different GlobalStateStore has already been added with the "
                                    f"name {store_name}.")
        self._store_builders[store_name] = store_builder
        self._store_users.setdefault(store_name, [])
        for processor in processor_names:
            self._connect(processor, store_name)
        return self

    def connect_processor_and_state_stores(self, processor_name: str, *store_names: str) -> Topology:
        """Give a processor access to stores added earlier (context.get_state_store)."""
        if not store_names:
            raise TopologyException("Must provide at least one state store name.")
        for store in store_names:
            self._connect(processor_name, store)
        return self

    def add_global_store(self, store_builder: Any, source_name: str, topic: str, processor_name: str,
                         supplier: ProcessorSupplier, key_serde: Any = None, value_serde: Any = None,
                         timestamp_extractor: Any = None) -> Topology:
        """Add a global store fed from `topic` on every instance by `supplier`'s processor."""
        store_name = store_builder.name
        for node in (source_name, processor_name):
            self._check_new_name(node)
        if source_name == processor_name:
            raise TopologyException("sourceName and processorName must be different.")
        if store_name in self._store_builders or store_name in self._global_store_builders:
            raise TopologyException(f"A different StateStore has already been added with the name "
                                    f"{store_name}.")
        if getattr(store_builder, "logging_enabled", False):
            raise TopologyException(f"StateStore {store_name} for global table must not have logging "
                                    "enabled; call with_logging_disabled() on its builder.")
        self._check_topic_free(topic)
        self._global_topics.append(topic)
        self._nodes[source_name] = SourceNode(source_name, topics=[topic], key_serde=key_serde,
                                              value_serde=value_serde,
                                              timestamp_extractor=timestamp_extractor)
        self._grouper.add(source_name)
        self._nodes[processor_name] = ProcessorNode(processor_name, parents=[source_name],
                                                    supplier=supplier, stores=[store_name])
        self._link(processor_name, (source_name,))
        self._global_store_builders[store_name] = store_builder
        self._source_changelogs[store_name] = topic
        return self

    def add_read_only_state_store(self, store_builder: Any, source_name: str, topic: str,
                                  processor_name: str, supplier: ProcessorSupplier, key_serde: Any = None,
                                  value_serde: Any = None, timestamp_extractor: Any = None,
                                  offset_reset: str | None = None) -> Topology:
        """Kafka's addReadOnlyStateStore (KIP-813): a local store filled from `topic` by `supplier`'s
        processor; the topic itself is the store's changelog (logging is turned off)."""
        store_builder.with_logging_disabled()
        self.add_source(source_name, topic, key_serde=key_serde, value_serde=value_serde,
                        timestamp_extractor=timestamp_extractor, offset_reset=offset_reset)
        self.add_processor(processor_name, supplier, source_name)
        self.add_state_store(store_builder, processor_name)
        self.connect_source_store_and_topic(store_builder.name, topic)
        return self

    # -------------------------------------------------- used by the DSL compiler
    def add_internal_topic(self, topic: str, partitions: int | None = None) -> None:
        """Mark a (repartition) topic as owned by the application: the runtime prefixes and creates it."""
        self._internal_topics[topic] = InternalTopic(topic, partitions)

    def connect_source_store_and_topic(self, store_name: str, topic: str) -> None:
        """Use a source topic as a store's changelog (topology.optimization reuse)."""
        if store_name in self._source_changelogs:
            raise TopologyException(f"Source store {store_name} is already added.")
        self._source_changelogs[store_name] = topic

    def copartition_sources(self, source_names: Iterable[str]) -> None:
        """Sources whose topics must have equal partition counts (joins)."""
        self._copartition_groups.append(list(source_names))

    # ------------------------------------------------------------- introspection
    def describe(self) -> TopologyDescription:
        """The topology as Kafka Streams' TopologyDescription (str() gives Kafka's exact text)."""
        from pystreams.compiler.description import describe

        return describe(self)

    def nodes(self) -> list[Node]:
        """All nodes in insertion order (Kafka's topological order)."""
        return list(self._nodes.values())

    def node(self, name: str) -> Node:
        """The node called `name`."""
        try:
            return self._nodes[name]
        except KeyError:
            raise TopologyException(f"No node named {name} in this topology.") from None

    def store_builders(self) -> dict[str, Any]:
        """Local (non-global) store builders by store name."""
        return dict(self._store_builders)

    def global_store_builders(self) -> dict[str, Any]:
        """Global store builders by store name."""
        return dict(self._global_store_builders)

    def global_store_names(self) -> list[str]:
        """Names of the global stores."""
        return list(self._global_store_builders)

    def is_global_source(self, name: str) -> bool:
        """Whether `name` is the source node of a global store."""
        node = self._nodes.get(name)
        return (isinstance(node, SourceNode) and len(node.topics) == 1
                and node.topics[0] in self._global_topics)

    def node_groups(self) -> list[tuple[int, list[str]]]:
        """(id, node names) per sub-topology incl. global-store groups, numbered as Kafka numbers them."""
        groups: dict[str, tuple[int, list[str]]] = {}
        for name in self._nodes:
            root = self._grouper.root(name)
            if root not in groups:
                groups[root] = (len(groups), [])
            groups[root][1].append(name)
        return list(groups.values())

    def subtopologies(self) -> list[SubTopology]:
        """The task-generating sub-topologies (global-store groups excluded), in id order."""
        result = []
        for group_id, names in self.node_groups():
            if any(self.is_global_source(n) for n in names):
                continue
            sources = [self._nodes[n] for n in names if self._nodes[n].kind == "source"]
            sinks = [self._nodes[n] for n in names if self._nodes[n].kind == "sink"]
            stores: list[str] = []
            for n in names:
                stores.extend(s for s in self._nodes[n].stores if s not in stores)
            result.append(SubTopology(
                id=group_id, node_names=tuple(names),
                source_topics=tuple(t for s in sources for t in getattr(s, "topics")),
                sink_topics=tuple(getattr(s, "topic") for s in sinks if getattr(s, "topic")),
                store_names=tuple(stores),
                source_patterns=tuple(p.pattern for s in sources
                                      if (p := getattr(s, "pattern")) is not None)))
        return result

    def global_subtopology_nodes(self) -> list[tuple[str, str, str]]:
        """(source node, processor node, store name) per global store."""
        result = []
        for _, names in self.node_groups():
            source = next((n for n in names if self.is_global_source(n)), None)
            if source is not None:
                processor = next(n for n in names if n != source)
                result.append((source, processor, self._nodes[processor].stores[0]))
        return result

    def internal_topics(self) -> dict[str, Any]:
        """Internal topics, unprefixed: repartition topics, store -> changelog topic suffix, and
        store -> source topic for stores whose changelog is a reused source topic."""
        changelogs = {}
        for store, builder in self._store_builders.items():
            if store in self._source_changelogs:
                continue
            if getattr(builder, "logging_enabled", True):
                changelogs[store] = f"{store}-changelog"
        source_changelogs = {s: t for s, t in self._source_changelogs.items()
                             if s not in self._global_store_builders}
        return {"repartition": list(self._internal_topics), "changelog": changelogs,
                "source_changelog": source_changelogs}

    def repartition_topics(self) -> list[InternalTopic]:
        """Repartition topics with their configured partition counts."""
        return list(self._internal_topics.values())

    def changelog_topic(self, store_name: str, application_id: str) -> str | None:
        """The full changelog topic of a store for an application, or None when logging is off."""
        if store_name in self._source_changelogs:
            return self._source_changelogs[store_name]
        builder = self._store_builders.get(store_name)
        if builder is None or not getattr(builder, "logging_enabled", True):
            return None
        return f"{application_id}-{store_name}-changelog"

    def is_internal_topic(self, topic: str) -> bool:
        """Whether a raw topic name is a repartition topic this topology owns."""
        return topic in self._internal_topics

    def copartition_groups(self) -> list[list[str]]:
        """Groups of source node names that must be co-partitioned."""
        return [list(g) for g in self._copartition_groups]

    def __str__(self) -> str:
        return str(self.describe())

    # ------------------------------------------------------------------ diagrams
    def to_mermaid(self) -> str:
        """A Mermaid flowchart of the topology (sub-topologies, topics, stores)."""
        from pystreams.compiler.render import to_mermaid

        return to_mermaid(self)

    def to_dot(self) -> str:
        """A Graphviz DOT digraph of the topology."""
        from pystreams.compiler.render import to_dot

        return to_dot(self)

    def _repr_html_(self) -> str:
        from pystreams.compiler.render import to_html

        return to_html(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter: a diagram (HTML with Mermaid) with the describe() text as plain-text fallback."""
        from pystreams.compiler.render import to_html, to_mermaid

        return {"text/plain": str(self.describe()), "text/html": to_html(self),
                "text/vnd.mermaid": to_mermaid(self)}

    # ------------------------------------------------------------------ helpers
    def _check_new_name(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TopologyException("A node name must be a non-empty string.")
        if name in self._nodes:
            raise TopologyException(f"Processor {name} is already added; node names must be unique "
                                    "(pass a different name, or Named.as_(...) in the DSL).")

    def _check_topic_free(self, topic: str) -> None:
        if topic in self._raw_source_topics or topic in self._global_topics:
            raise TopologyException(f"Topic {topic} has already been registered by another source.")
        for pattern in self._patterns.values():
            if pattern.fullmatch(topic):
                raise TopologyException(f"Topic {topic} matches a Pattern already registered by "
                                        "another source.")

    def _check_parents(self, name: str, parents: Iterable[str], what: str) -> None:
        parents = list(parents)
        if not parents:
            raise TopologyException(f"{what} {name} must have at least one parent.")
        for parent in parents:
            if parent == name:
                raise TopologyException(f"Processor {name} cannot be a predecessor of itself.")
            if parent not in self._nodes:
                raise TopologyException(f"Predecessor processor {parent} is not added yet for {name}.")
            if self._nodes[parent].kind == "sink":
                raise TopologyException(f"Sink {parent} cannot be used a parent.")

    def _link(self, name: str, parents: Iterable[str]) -> None:
        self._grouper.add(name)
        for parent in parents:
            children = self._nodes[parent].children
            if name not in children:
                children.append(name)
            self._grouper.unite(name, parent)

    def _connect(self, processor_name: str, store_name: str) -> None:
        if store_name in self._global_store_builders:
            raise TopologyException(f"Global StateStore {store_name} can be used by a Processor without "
                                    "being specified; it should not be explicitly passed.")
        if store_name not in self._store_builders:
            raise TopologyException(f"StateStore {store_name} is not added yet; call "
                                    "add_state_store(builder) first.")
        node = self._nodes.get(processor_name)
        if node is None:
            raise TopologyException(f"Processor {processor_name} is not added yet.")
        if node.kind != "processor":
            raise TopologyException(f"cannot connect a state store {store_name} to a source node or a "
                                    "sink node.")
        users = self._store_users[store_name]
        if users:
            self._grouper.unite(users[0], processor_name)
        if processor_name not in users:
            users.append(processor_name)
        if store_name not in node.stores:
            node.stores.append(store_name)
