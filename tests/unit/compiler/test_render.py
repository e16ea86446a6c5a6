"""Diagrams (Mermaid, DOT, Jupyter bundle) and `pystreams describe app.py`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pystreams import Materialized, StreamsBuilder
from pystreams.cli.app import app

pytestmark = pytest.mark.unit

APP = '''
from pystreams import StreamsBuilder, Materialized
builder = StreamsBuilder()
(builder.stream("text").flat_map_values(lambda v: v.split()).group_by(lambda k, w: w)
 .count(Materialized.as_("counts")).to_stream().to("out"))
topology = builder.build()
'''


def word_count():  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    (b.stream("text").flat_map_values(lambda v: v.split()).group_by(lambda k, w: w)
     .count(Materialized.as_("counts")).to_stream().to("out"))
    return b.build()


def test_mermaid_has_every_node_topic_store_and_edge() -> None:
    t = word_count()
    text = t.to_mermaid()
    assert text.startswith("flowchart TD\n")
    ids = dict((name, ident) for ident, name in re.findall(r'^    (n\d+)\W*"([^"]+)"', text, re.M))
    assert set(ids) == {n.name for n in t.nodes()}
    assert text.count("subgraph ") == 2
    assert '(["counts-repartition"])' in text and '[("counts")]' in text
    assert f"{ids['KSTREAM-AGGREGATE-0000000003']} --> {ids['KTABLE-TOSTREAM-0000000007']}" in text
    assert f"{ids['KSTREAM-AGGREGATE-0000000003']} -.- s0" in text


def test_dot_clusters_and_edges() -> None:
    text = word_count().to_dot()
    assert text.startswith("digraph topology {") and text.rstrip().endswith("}")
    assert text.count("subgraph cluster_") == 2
    assert '"counts-repartition-sink" -> "topic:counts-repartition";' in text
    assert '"topic:counts-repartition" -> "counts-repartition-source";' in text
    assert '"store:counts" [label="counts", shape=cylinder];' in text


def test_jupyter_bundle_carries_text_and_diagram() -> None:
    t = word_count()
    bundle = t._repr_mimebundle_()
    assert bundle["text/plain"] == str(t.describe())
    assert "flowchart TD" in bundle["text/vnd.mermaid"]
    assert 'class="mermaid"' in bundle["text/html"] and "Sub-topology: 0" in bundle["text/html"]


@pytest.mark.parametrize("fmt, marker", [("text", "Topologies:\n   Sub-topology: 0\n"),
                                         ("mermaid", "flowchart TD\n"), ("dot", "digraph topology {")])
def test_cli_describe(tmp_path: Path, fmt: str, marker: str) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP)
    result = CliRunner().invoke(app, ["describe", str(script), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(marker)
    if fmt == "text":
        assert result.output == str(word_count().describe())


def test_cli_describe_builder_only_and_missing_topology(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP.replace("topology = builder.build()", ""))
    result = CliRunner().invoke(app, ["describe", str(script)])
    assert result.exit_code == 0 and "counts-repartition" in result.output
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    result = CliRunner().invoke(app, ["describe", str(empty)])
    assert result.exit_code == 2
    assert "No Topology" in result.output


def test_cli_describe_refuses_a_start_at_import(tmp_path: Path) -> None:
    """A script that starts its app when imported is not started by `pystreams describe` (the broker address here
    answers nothing, and the refusal comes before any connection)."""
    script = tmp_path / "self_starting.py"
    script.write_text(APP + 'from pystreams import KafkaStreams, Serdes\n'
                            'KafkaStreams(topology, {"application.id": "d", "bootstrap.servers": "127.0.0.1:1",\n'
                            '                        "default.key.serde": Serdes.String(),\n'
                            '                        "default.value.serde": Serdes.String()}).start()\n')
    result = CliRunner().invoke(app, ["describe", str(script)])
    assert result.exit_code == 2, result.output
    assert "error: the script calls KafkaStreams.start() when imported: `pystreams describe`" in result.output
