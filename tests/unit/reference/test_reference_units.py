"""The reference harness's pure parts: server.properties, cluster ids, tool commands, the oracle's
source hashing and record encoding, the describe() parser. No sockets, no JVM."""
from __future__ import annotations

import base64
import zipfile
from pathlib import Path

import pytest

from tests.reference import jvm, kafka, streams_oracle, tools
from tests.reference.describe_text import DescriptionParseError, parse_description

pytestmark = pytest.mark.unit


def parse_properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_server_properties_make_a_combined_kraft_node_on_loopback(tmp_path: Path) -> None:
    props = parse_properties(kafka.server_properties(9092, 9093, tmp_path / "data",
                                                     {"num.partitions": "3", "x.y": "z"}))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["num.partitions"] == "3" and props["x.y"] == "z"  # overrides win


def test_cluster_ids_are_kafka_uuids() -> None:
    ids = {kafka.random_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for text in ids:
        assert len(text) == 22 and not text.startswith("-")
        assert len(base64.urlsafe_b64decode(text + "==")) == 16


def test_unknown_tool_is_refused_with_the_known_names() -> None:
    with pytest.raises(tools.UnknownToolError, match="kafka-topics"):
        tools.tool_command("kafka-nonsense")


@pytest.mark.reference
def test_every_tool_main_class_is_in_the_jars() -> None:
    classes: set[str] = set()
    for jar in jvm.require_jars().glob("*.jar"):
        with zipfile.ZipFile(jar) as archive:
            classes.update(n[:-6].replace("/", ".") for n in archive.namelist()
                           if n.endswith(".class"))
    missing = {name: cls for name, cls in tools.TOOLS.items() if cls not in classes}
    assert missing == {}


@pytest.mark.reference
def test_tool_commands_pick_jit_and_heap_by_tool() -> None:
    quick = tools.tool_command("kafka-topics.sh", "--list")
    perf = tools.tool_command("kafka-producer-perf-test", "--help")
    assert quick[-2:] == ["org.apache.kafka.tools.TopicCommand", "--list"]
    assert "-XX:TieredStopAtLevel=1" in quick and "-XX:TieredStopAtLevel=1" not in perf
    assert "-Xmx1g" in perf and "-XX:+UseG1GC" in perf


def test_oracle_digest_follows_java_sources(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "pystreams" / "oracle" / "A.java"
    source.parent.mkdir(parents=True)
    source.write_text("class A {}")
    monkeypatch.setattr(streams_oracle, "JAVA_SOURCES", tmp_path)
    first = streams_oracle.sources_digest()
    assert streams_oracle.sources_digest() == first
    source.write_text("class A { int x; }")
    assert streams_oracle.sources_digest() != first
    source.rename(source.with_name("B.java"))
    assert len({first, streams_oracle.sources_digest()}) == 2


def test_bytes_keys_and_values_go_to_the_oracle_as_base64() -> None:
    record = {"topic": "t", "key": b"\x00\xff", "value": "text", "timestamp": 1}
    encoded = streams_oracle._encode(record)
    assert encoded == {"topic": "t", "key": "AP8=", "value": "text", "timestamp": 1}
    assert record["key"] == b"\x00\xff"  # the caller's record is left alone


DESCRIPTION = """\
Topologies:
   Sub-topology: 0
    Source: src (topics: [a, b])
      --> p1, p2
    Processor: p1 (stores: [s1, s2])
      --> snk
      <-- src
    Processor: p2 (stores: [])
      --> none
      <-- src
    Sink: snk (topic: out)
      <-- p1

  Sub-topology: 1 for global store (will not generate tasks)
    Source: gsrc (topics: [g])
      --> gproc
    Processor: gproc (stores: [gstore])
      --> none
      <-- gsrc
"""


def test_describe_parser_reads_nodes_edges_topics_and_stores() -> None:
    description = parse_description(DESCRIPTION)
    assert list(description.subtopologies) == ["0", "1"]
    sub = description.subtopologies["0"]
    assert not sub.global_store and description.subtopologies["1"].global_store
    assert sub.nodes["src"].topics == ["a", "b"] and sub.nodes["src"].successors == ["p1", "p2"]
    assert sub.nodes["p1"].stores == ["s1", "s2"] and sub.nodes["p2"].stores == []
    assert sub.nodes["p2"].successors == [] and sub.nodes["snk"].topics == ["out"]
    assert description.node("gproc").stores == ["gstore"]
    with pytest.raises(KeyError):
        description.node("missing")


def test_describe_parser_rejects_other_text() -> None:
    with pytest.raises(DescriptionParseError, match="line 2"):
        parse_description("Topologies:\n   something else\n")


def test_pystreams_param_is_xfailed_only_while_our_broker_fixture_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures import reference_kafka as fixtures

    monkeypatch.setattr(fixtures, "PYSTREAMS_BROKER_MODULE", "tests.fixtures.no_such_module")
    missing = fixtures._pystreams_param()
    assert missing.values == ("pystreams",)
    [mark] = missing.marks
    assert mark.name == "xfail" and mark.kwargs == {"reason": fixtures.NOT_YET, "strict": False}
    monkeypatch.setattr(fixtures, "PYSTREAMS_BROKER_MODULE", "tests.fixtures.reference_kafka")
    assert fixtures._pystreams_param().marks == ()
