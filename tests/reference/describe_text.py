"""Parse Kafka Streams' TopologyDescription text (Topology.describe().toString()) into data.

Tests compare structure (sub-topologies, node names, edges, topics, stores) with readable
failures instead of one big string diff, for the Java oracle's text and for ours alike:

    parse_description(text).subtopologies["0"].nodes["KSTREAM-SOURCE-0000000000"].topics
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_SUBTOPOLOGY = re.compile(r"^\s*Sub-topology: (\d+)(.*)$")
_NODE = re.compile(r"^\s*(Source|Processor|Sink): (\S+) \((.*)\)\s*$")
_EDGE = re.compile(r"^\s*(-->|<--) (.*)$")
_LIST = re.compile(r"\[(.*)\]")


class DescriptionParseError(ValueError):
    """The text is not in TopologyDescription's format; the message names the line."""


@dataclass
class Node:
    """One Source, Processor or Sink line with its edges."""

    kind: str  # "Source" | "Processor" | "Sink"
    name: str
    detail: str  # the text in parentheses, e.g. "topics: [text-input]"
    successors: list[str] = field(default_factory=list)
    predecessors: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[str]:
        """A source's topics, or a sink's topic as a one-item list."""
        if self.detail.startswith("topics: "):
            return _items(self.detail)
        if self.detail.startswith("topic: "):
            return [self.detail.removeprefix("topic: ")]
        return []

    @property
    def stores(self) -> list[str]:
        """A processor's state stores."""
        return _items(self.detail) if self.detail.startswith("stores: ") else []


@dataclass
class SubTopology:
    """A sub-topology (or a global store's) with its nodes in printed order."""

    id: str
    global_store: bool
    nodes: dict[str, Node] = field(default_factory=dict)


@dataclass
class Description:
    """The whole TopologyDescription."""

    subtopologies: dict[str, SubTopology] = field(default_factory=dict)

    def node(self, name: str) -> Node:
        """The node with that name in any sub-topology."""
        for sub in self.subtopologies.values():
            if name in sub.nodes:
                return sub.nodes[name]
        raise KeyError(name)


def parse_description(text: str) -> Description:
    """Parse describe() text; raises DescriptionParseError on anything unexpected."""
    description = Description()
    sub: SubTopology | None = None
    node: Node | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.strip() == "Topologies:":
            continue
        if match := _SUBTOPOLOGY.match(line):
            sub = SubTopology(match[1], "global store" in match[2])
            description.subtopologies[sub.id] = sub
            node = None
        elif (match := _NODE.match(line)) and sub is not None:
            node = Node(match[1], match[2], match[3])
            sub.nodes[node.name] = node
        elif (match := _EDGE.match(line)) and node is not None:
            names = [] if match[2].strip() == "none" else [n.strip() for n in match[2].split(",")]
            (node.successors if match[1] == "-->" else node.predecessors).extend(names)
        else:
            raise DescriptionParseError(f"line {number} is not TopologyDescription text: {line!r}")
    return description


def _items(detail: str) -> list[str]:
    match = _LIST.search(detail)
    if not match or not match[1].strip():
        return []
    return [item.strip() for item in match[1].split(",")]
