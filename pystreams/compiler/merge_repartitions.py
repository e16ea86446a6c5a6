"""merge.repartition.topics: one repartition topic per key-changing operation.

Follows Kafka's InternalStreamsBuilder.mergeRepartitionTopics: every optimizable repartition node
(group_by/aggregations, to_table) is registered under its nearest key-changing ancestor (when no
value-changing step sits in between); merge nodes downstream of key changers take their place; each
key changer with repartition nodes gets ONE repartition node named after the first topic
("<topic>-filter/-sink/-source"), placed right after it, and the old repartition nodes disappear.
The result is a new LogicalGraph whose node order is Kafka's write (build-priority) order.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pystreams.errors import TopologyError
from pystreams.graph import GraphNode, LogicalGraph, ProcessorGraphNode, RepartitionNode
from pystreams.graph.order import write_order


class _Work:
    """A mutable copy of the graph: parents per node, children in insertion order, priorities."""

    def __init__(self, graph: LogicalGraph) -> None:
        self.nodes: dict[str, GraphNode] = {n.name: n for n in graph}
        self.parents: dict[str, list[str]] = {n.name: list(n.parents) for n in graph}
        self.children: dict[str, list[str]] = {n.name: [] for n in graph}
        for node in graph:
            for parent in node.parents:
                if node.name not in self.children[parent]:
                    self.children[parent].append(node.name)
        self.priority: dict[str, int] = {n.name: graph.priority(n.name) for n in graph}

    def add_child(self, parent: str, child: str) -> None:
        if child not in self.children[parent]:
            self.children[parent].append(child)
        if parent not in self.parents[child]:
            self.parents[child].append(parent)

    def remove_child(self, parent: str, child: str) -> None:
        if child in self.children[parent]:
            self.children[parent].remove(child)
        if parent in self.parents[child]:
            self.parents[child].remove(parent)

    def rename(self, old: str, new: str) -> None:
        """Give a node its final name once no other node holds that name."""
        assert new not in self.nodes, new
        self.nodes[new] = self.nodes.pop(old)
        self.parents[new] = self.parents.pop(old)
        self.children[new] = self.children.pop(old)
        self.priority[new] = self.priority.pop(old)
        for table in (self.parents, self.children):
            for names in table.values():
                names[:] = [new if n == old else n for n in names]

    def find_up(self, start: str, predicate: Callable[[str], bool]) -> str | None:
        """Kafka's recursive findParentNodeMatching (the last parent's search result wins), run on
        an explicit stack so long chains do not hit Python's recursion limit."""
        if predicate(start):
            return start
        stack: list[list[Any]] = [[start, 0, None]]  # node, next parent index, found so far
        while True:
            frame = stack[-1]
            parents = self.parents[frame[0]]
            if frame[1] < len(parents):
                parent = parents[frame[1]]
                frame[1] += 1
                if not predicate(parent):
                    stack.append([parent, 0, None])
                    continue
                result: str | None = parent
            else:
                result = frame[2]
            stack.pop()
            if not stack:
                return result
            stack[-1][2] = result


def _optimizable(node: GraphNode) -> bool:
    return isinstance(node, RepartitionNode) and node.optimizable and not node.grouped_table


def merge_repartition_topics(graph: LogicalGraph) -> LogicalGraph:
    """The graph with repartition topics merged per key-changing operation (Kafka's rule)."""
    work = _Work(graph)
    nodes = work.nodes

    # registration, as maybeAddNodeForOptimizationMetadata does while the DSL is built
    key_changers: dict[str, list[str]] = {}
    merge_nodes: list[str] = []
    for node in graph:
        if node.key_changing:
            key_changers[node.name] = []
        elif _optimizable(node):
            should_be = work.find_up(node.name, lambda n: nodes[n].key_changing or nodes[n].value_changing)
            key_changer = work.find_up(node.name, lambda n: nodes[n].key_changing)
            if should_be is not None and should_be == key_changer:
                key_changers[key_changer].append(node.name)
        elif isinstance(node, ProcessorGraphNode) and node.op == "merge":
            merge_nodes.append(node.name)

    _move_to_merge_nodes(work, key_changers, merge_nodes)

    for key_node, repartitions in list(key_changers.items()):
        if not repartitions:
            continue
        gone = [r for r in repartitions if r not in nodes]
        if gone:  # already merged under another merge node: Kafka fails here too (null keyChangingChild)
            raise TopologyError(f"topology.optimization cannot merge the repartition topic of {gone[0]} twice "
                                f"(it is below several merged key-changed streams; Kafka refuses this graph "
                                "too). Fix: use topology.optimization=reuse.ktable.source.topics (without "
                                "merge.repartition.topics) for this topology.")
        reps = [n for n in (nodes[r] for r in repartitions) if isinstance(n, RepartitionNode)]
        assert len(reps) == len(repartitions)
        topic = reps[0].topic
        key_serde = next((r.key_serde for r in reps if r.key_serde is not None), None)
        value_serde = next((r.value_serde for r in reps if r.value_serde is not None), None)
        merged = RepartitionNode(topic + "-source", (), topic=topic, sink_name=topic + "-sink",
                                 filter_name=topic + "-filter", key_serde=key_serde,
                                 value_serde=value_serde, optimizable=True)
        temp = f"$merged:{topic}"  # the final name may equal a replaced node's name
        nodes[temp] = merged
        work.parents[temp] = []
        work.children[temp] = []
        work.priority[temp] = work.priority[key_node]
        for rep in repartitions:
            child = work.find_up(rep, lambda n: key_node in work.parents[n])
            if child is None:  # Kafka fails here too (StreamsException: null keyChangingChild node)
                raise TopologyError(f"topology.optimization cannot merge the repartition topic of {rep} into "
                                    f"one for {key_node}: no path joins them (Kafka refuses this graph too). "
                                    "Fix: use topology.optimization=reuse.ktable.source.topics (without "
                                    "merge.repartition.topics) for this topology.")
            work.add_child(temp, child)
            work.remove_child(key_node, child)
            rep_children = list(work.children[rep])
            rep_parents = list(work.parents[rep])
            for grandchild in rep_children:
                for parent in rep_parents:
                    work.add_child(parent, grandchild)
            for parent in rep_parents:
                work.remove_child(parent, rep)
            for grandchild in rep_children:
                work.remove_child(rep, grandchild)
            del nodes[rep]
        work.add_child(key_node, temp)
        work.rename(temp, merged.name)

    return LogicalGraph(tuple(replace(nodes[name], parents=tuple(work.parents[name]))
                              for name in write_order(list(work.nodes), work.parents, work.children,
                                                      work.priority)))


def _move_to_merge_nodes(work: _Work, key_changers: dict[str, list[str]], merge_nodes: list[str]) -> None:
    """Kafka's maybeUpdateKeyChangingRepartitionNodeMap: a merge of key-changed streams becomes the
    key changer of the repartition nodes below it. As in Kafka, every merge node's owners are found
    from the original map first, then the map is updated (a repartition node can so end up under two
    merge nodes, which Kafka then refuses to optimize)."""
    owners_by_merge: dict[str, list[str]] = {}
    for merge in merge_nodes:
        owners: list[str] = []
        for key_node, reps in key_changers.items():
            below = all(work.find_up(r, _has_parent(work, merge)) is not None for r in reps)
            if below and work.find_up(merge, _has_parent(work, key_node)) is not None:
                owners.append(key_node)
        owners_by_merge[merge] = owners
    to_remove: list[str] = []
    for merge, owners in owners_by_merge.items():
        merged_reps: list[str] = []
        for owner in owners:
            for rep in key_changers.get(owner, []):
                if rep not in merged_reps:
                    merged_reps.append(rep)
            to_remove.append(owner)
        key_changers[merge] = merged_reps
    for owner in to_remove:
        key_changers.pop(owner, None)


def _has_parent(work: _Work, parent: str) -> Callable[[str], bool]:
    return lambda name: parent in work.parents[name]
