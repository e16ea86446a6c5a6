"""Diagrams of a Topology: Mermaid (Jupyter, Markdown) and Graphviz DOT, one box per sub-topology,
topics as stadiums, stores as cylinders. Built from the same TopologyDescription as describe()."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pystreams.compiler.description import (DescribedNode, ProcessorDescription, SinkDescription,
                                            SourceDescription, TopologyDescription)

if TYPE_CHECKING:
    from pystreams.compiler.topology import Topology


class _Ids:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.ids: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        if key not in self.ids:
            self.ids[key] = f"{self.prefix}{len(self.ids)}"
        return self.ids[key]


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(topology: Topology) -> str:
    """A Mermaid flowchart: sub-topologies as subgraphs, topics and stores outside them."""
    description = topology.describe()
    nodes, topics, stores = _Ids("n"), _Ids("t"), _Ids("s")
    lines = ["flowchart TD"]
    edges: list[str] = []
    topic_names: list[str] = []
    store_names: list[str] = []
    for sub in _groups(description):
        title = f"Sub-topology: {sub[0]}" + (" (global store)" if sub[2] else "")
        lines.append(f'  subgraph sub{sub[0]}["{title}"]')
        for node in sub[1]:
            label = _mermaid_label(node.name)
            if isinstance(node, SourceDescription):
                lines.append(f'    {nodes(node.name)}[/"{label}"/]')
                sources = node.topics if node.topics is not None else [f"/{node.pattern}/"]
                for topic in sources:
                    if topic not in topic_names:
                        topic_names.append(topic)
                    edges.append(f"  {topics(topic)} --> {nodes(node.name)}")
            elif isinstance(node, SinkDescription):
                lines.append(f'    {nodes(node.name)}[\\"{label}"\\]')
                target = node.topic if node.topic is not None else f"extractor: {node.extractor}"
                if target not in topic_names:
                    topic_names.append(target)
                edges.append(f"  {nodes(node.name)} --> {topics(target)}")
            else:
                lines.append(f'    {nodes(node.name)}["{label}"]')
            if isinstance(node, ProcessorDescription):
                for store in node.stores:
                    if store not in store_names:
                        store_names.append(store)
                    edges.append(f"  {nodes(node.name)} -.- {stores(store)}")
            for child in node.successors:
                edges.append(f"  {nodes(node.name)} --> {nodes(child.name)}")
        lines.append("  end")
    lines.extend(f'  {topics(t)}(["{_mermaid_label(t)}"])' for t in topic_names)
    lines.extend(f'  {stores(s)}[("{_mermaid_label(s)}")]' for s in store_names)
    lines.extend(edges)
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(topology: Topology) -> str:
    """A Graphviz digraph with one cluster per sub-topology."""
    description = topology.describe()
    lines = ["digraph topology {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    edges: list[str] = []
    topic_names: list[str] = []
    store_names: list[str] = []
    for group_id, members, is_global in _groups(description):
        title = f"Sub-topology: {group_id}" + (" (global store)" if is_global else "")
        lines.append(f"  subgraph cluster_{group_id} {{")
        lines.append(f"    label={_dot_quote(title)};")
        for node in members:
            shape = ("invhouse" if isinstance(node, SourceDescription)
                     else "house" if isinstance(node, SinkDescription) else "box")
            lines.append(f"    {_dot_quote(node.name)} [shape={shape}];")
            if isinstance(node, SourceDescription):
                for topic in node.topics if node.topics is not None else [f"/{node.pattern}/"]:
                    topic_names.append(topic)
                    edges.append(f"  {_dot_quote('topic:' + topic)} -> {_dot_quote(node.name)};")
            elif isinstance(node, SinkDescription):
                target = node.topic if node.topic is not None else f"extractor: {node.extractor}"
                topic_names.append(target)
                edges.append(f"  {_dot_quote(node.name)} -> {_dot_quote('topic:' + target)};")
            else:
                assert isinstance(node, ProcessorDescription)
                for store in node.stores:
                    store_names.append(store)
                    edges.append(f"  {_dot_quote(node.name)} -> {_dot_quote('store:' + store)} "
                                 "[style=dashed, arrowhead=none];")
            for child in node.successors:
                edges.append(f"  {_dot_quote(node.name)} -> {_dot_quote(child.name)};")
        lines.append("  }")
    for topic in dict.fromkeys(topic_names):
        lines.append(f"  {_dot_quote('topic:' + topic)} [label={_dot_quote(topic)}, shape=oval];")
    for store in dict.fromkeys(store_names):
        lines.append(f"  {_dot_quote('store:' + store)} [label={_dot_quote(store)}, shape=cylinder];")
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _groups(description: TopologyDescription) -> list[tuple[int, list[DescribedNode], bool]]:
    groups: list[tuple[int, list[DescribedNode], bool]] = []
    for sub in description.subtopologies:
        groups.append((sub.id, list(sub.nodes), False))
    for glob in description.global_stores:
        groups.append((glob.id, [glob.source, glob.processor], True))
    return sorted(groups, key=lambda g: g[0])


def to_html(topology: Topology) -> str:
    """HTML for Jupyter: the Mermaid diagram (rendered by mermaid.js) above Kafka's describe text."""
    import html

    mermaid = to_mermaid(topology)
    text = str(topology.describe())
    return (
        '<div class="pystreams-topology">'
        f'<pre class="mermaid">{html.escape(mermaid)}</pre>'
        '<script type="module">'
        "import mermaid from 'https://cdn.jsdelivr.net/npm/mermaid@10/dist/mermaid.esm.min.mjs';"
        "mermaid.run({querySelector: '.pystreams-topology .mermaid'});"
        "</script>"
        f"<details><summary>describe()</summary><pre>{html.escape(text)}</pre></details>"
        "</div>")
