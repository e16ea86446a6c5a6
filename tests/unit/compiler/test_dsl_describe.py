"""DSL -> Topology describe() text, against expected strings from Kafka Streams' own TopologyTest
(apache/kafka streams/src/test/java/org/apache/kafka/streams/TopologyTest.java)."""
from __future__ import annotations

import re

import pytest

from pystreams import Grouped, Materialized, Named, Produced, StreamsBuilder

pytestmark = pytest.mark.unit


def text(builder: StreamsBuilder, props: dict[str, str] | None = None) -> str:
    return str(builder.build(props).describe())


def test_group_by_key_zero_arg_count() -> None:
    b = StreamsBuilder()
    b.stream("input-topic").group_by_key().count()
    assert text(b) == (
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic])\n"
        "      --> KSTREAM-AGGREGATE-0000000002\n"
        "    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n"
        "      --> none\n"
        "      <-- KSTREAM-SOURCE-0000000000\n\n")


def test_group_by_key_named_materialized_count() -> None:
    b = StreamsBuilder()
    b.stream("input-topic").group_by_key().count(Materialized.as_("count-store").with_store_type("in_memory"))
    assert text(b) == (
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic])\n"
        "      --> KSTREAM-AGGREGATE-0000000001\n"
        "    Processor: KSTREAM-AGGREGATE-0000000001 (stores: [count-store])\n"
        "      --> none\n"
        "      <-- KSTREAM-SOURCE-0000000000\n\n")


def test_group_by_key_anonymous_materialized_count_burns_a_store_name() -> None:
    b = StreamsBuilder()
    b.stream("input-topic").group_by_key().count(Materialized(store_type="in_memory"))
    assert "KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])" in text(b)


TABLE_COUNT = (
    "Topologies:\n"
    "   Sub-topology: 0\n"
    "    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic])\n"
    "      --> KTABLE-SOURCE-0000000002\n"
    "    Processor: KTABLE-SOURCE-0000000002 (stores: [input-topic-STATE-STORE-0000000000])\n"
    "      --> KTABLE-SELECT-0000000003\n"
    "      <-- KSTREAM-SOURCE-0000000001\n"
    "    Processor: KTABLE-SELECT-0000000003 (stores: [])\n"
    "      --> KSTREAM-SINK-0000000005\n"
    "      <-- KTABLE-SOURCE-0000000002\n"
    "    Sink: KSTREAM-SINK-0000000005 (topic: KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition)\n"
    "      <-- KTABLE-SELECT-0000000003\n"
    "\n"
    "  Sub-topology: 1\n"
    "    Source: KSTREAM-SOURCE-0000000006 (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition])\n"
    "      --> KTABLE-AGGREGATE-0000000007\n"
    "    Processor: KTABLE-AGGREGATE-0000000007 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000004])\n"
    "      --> none\n"
    "      <-- KSTREAM-SOURCE-0000000006\n"
    "\n")


def test_table_group_by_count_materializes_source_and_repartitions() -> None:
    b = StreamsBuilder()
    b.table("input-topic").group_by(lambda k, v: (k, v)).count()
    assert text(b) == TABLE_COUNT


def test_table_group_by_named_count() -> None:
    b = StreamsBuilder()
    b.table("input-topic").group_by(lambda k, v: (k, v)).count(Materialized.as_("count-store"))
    out = text(b)
    assert "    Sink: KSTREAM-SINK-0000000004 (topic: count-store-repartition)\n" in out
    assert "    Source: KSTREAM-SOURCE-0000000005 (topics: [count-store-repartition])\n" in out
    assert "    Processor: KTABLE-AGGREGATE-0000000006 (stores: [count-store])\n" in out


@pytest.mark.parametrize("materialized, expected", [
    (None, "KTABLE-MAPVALUES-0000000003 (stores: [])"),
    (Materialized(store_type="in_memory"), "KTABLE-MAPVALUES-0000000004 (stores: [])"),
    (Materialized.as_("store-name"), "KTABLE-MAPVALUES-0000000003 (stores: [store-name])"),
])
def test_table_map_values_materialization(materialized: Materialized | None, expected: str) -> None:
    b = StreamsBuilder()
    b.table("input-topic").map_values(lambda k, v: None, materialized)
    out = text(b)
    assert "    Processor: KTABLE-SOURCE-0000000002 (stores: [])\n" in out
    assert expected in out


@pytest.mark.parametrize("materialized, expected", [
    (None, "KTABLE-FILTER-0000000003 (stores: [])"),
    (Materialized.with_(None, None), "KTABLE-FILTER-0000000004 (stores: [])"),
    (Materialized.as_("store-name"), "KTABLE-FILTER-0000000003 (stores: [store-name])"),
])
def test_table_filter_materialization(materialized: Materialized | None, expected: str) -> None:
    b = StreamsBuilder()
    b.table("input-topic").filter(lambda k, v: False, materialized)
    assert expected in text(b)


WORD_COUNT = (
    "Topologies:\n"
    "   Sub-topology: 0\n"
    "    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])\n"
    "      --> KSTREAM-FLATMAPVALUES-0000000001\n"
    "    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n"
    "      --> KSTREAM-KEY-SELECT-0000000002\n"
    "      <-- KSTREAM-SOURCE-0000000000\n"
    "    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n"
    "      --> counts-store-repartition-filter\n"
    "      <-- KSTREAM-FLATMAPVALUES-0000000001\n"
    "    Processor: counts-store-repartition-filter (stores: [])\n"
    "      --> counts-store-repartition-sink\n"
    "      <-- KSTREAM-KEY-SELECT-0000000002\n"
    "    Sink: counts-store-repartition-sink (topic: counts-store-repartition)\n"
    "      <-- counts-store-repartition-filter\n"
    "\n"
    "  Sub-topology: 1\n"
    "    Source: counts-store-repartition-source (topics: [counts-store-repartition])\n"
    "      --> KSTREAM-AGGREGATE-0000000003\n"
    "    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])\n"
    "      --> KTABLE-TOSTREAM-0000000007\n"
    "      <-- counts-store-repartition-source\n"
    "    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])\n"
    "      --> KSTREAM-SINK-0000000008\n"
    "      <-- KSTREAM-AGGREGATE-0000000003\n"
    "    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)\n"
    "      <-- KTABLE-TOSTREAM-0000000007\n\n")


def test_word_count_with_named_store() -> None:
    # Kafka's WordCountDemo topology (streams/examples), the describe text in its docs
    b = StreamsBuilder()
    (b.stream("streams-plaintext-input")
     .flat_map_values(lambda v: v.lower().split())
     .group_by(lambda k, v: v)
     .count(Materialized.as_("counts-store"))
     .to_stream()
     .to("streams-wordcount-output"))
    assert text(b) == WORD_COUNT


def test_user_names_override_and_still_burn_the_counter() -> None:
    b = StreamsBuilder()
    s = b.stream("in")
    s.filter(lambda k, v: True, Named("keep")).map_values(lambda v: v).to("out", Produced(name="write"))
    out = text(b)
    assert "Processor: keep (stores: [])" in out
    assert "Processor: KSTREAM-MAPVALUES-0000000002 (stores: [])" in out
    assert "Sink: write (topic: out)" in out


def test_grouped_name_names_repartition_topic_and_key_selector() -> None:
    b = StreamsBuilder()
    b.stream("in").group_by(lambda k, v: v, Grouped.as_("by-value")).count()
    t = b.build()
    out = str(t.describe())
    assert "Processor: by-value (stores: [])" in out
    assert "Sink: by-value-repartition-sink (topic: by-value-repartition)" in out
    assert t.internal_topics()["repartition"] == ["by-value-repartition"]


def test_split_branches_and_merge() -> None:
    b = StreamsBuilder()
    branches = (b.stream("in").split(Named("s-"))
                .branch(lambda k, v: v > 0)
                .branch(lambda k, v: v < 0)
                .default_branch())
    assert list(branches) == ["s-1", "s-2", "s-0"]
    branches["s-1"].merge(branches["s-2"]).to("out")
    out = text(b)
    assert "    Processor: s- (stores: [])\n      --> s-0, s-1, s-2\n" in out
    assert re.search(r"Processor: KSTREAM-MERGE-\d{10} \(stores: \[\]\)\n      --> KSTREAM-SINK-\d{10}\n"
                     r"      <-- s-1, s-2\n", out)


def test_repartition_operator_uses_its_own_topic() -> None:
    b = StreamsBuilder()
    b.stream("in").repartition().to("out")
    t = b.build()
    assert t.internal_topics()["repartition"] == ["KSTREAM-REPARTITION-0000000001-repartition"]
    out = str(t.describe())
    assert "Sink: KSTREAM-SINK-0000000002 (topic: KSTREAM-REPARTITION-0000000001-repartition)" in out
    assert "Source: KSTREAM-SOURCE-0000000004 (topics: [KSTREAM-REPARTITION-0000000001-repartition])" in out
    assert len(t.subtopologies()) == 2


def test_same_topic_read_twice_is_one_source_like_kafka() -> None:
    b = StreamsBuilder()
    b.stream("a").filter(lambda k, v: True).to("o1")
    b.stream("a").map_values(str).to("o2")
    t = b.build()
    assert [n.name for n in t.nodes() if n.kind == "source"] == ["KSTREAM-SOURCE-0000000000"]
    assert t.node("KSTREAM-SOURCE-0000000000").children == ["KSTREAM-FILTER-0000000001",
                                                            "KSTREAM-MAPVALUES-0000000004"]


def test_overlapping_but_unequal_sources_are_refused() -> None:
    from pystreams.errors import TopologyError

    b = StreamsBuilder()
    b.stream(["a", "b"]).to("o1")
    b.stream("a").to("o2")
    with pytest.raises(TopologyError, match="overlapping but not equal input topics"):
        b.build()


def test_extension_nodes_write_themselves() -> None:
    from dataclasses import dataclass
    from typing import Any

    from pystreams.compiler.processors.stateless import PassThrough
    from pystreams.graph import GraphNode

    @dataclass(frozen=True, eq=False)
    class CustomNode(GraphNode):
        def write_to_topology(self, compiler: Any) -> None:
            compiler.topology.add_processor(self.name, PassThrough(), *self.parents)
            compiler.explain(self.name, "custom()", "nothing")

    b = StreamsBuilder()
    s = b.stream("in")
    b.add_node(CustomNode(b.new_processor_name("CUSTOM-"), (s.name,)))
    t = b.build()
    assert "Processor: CUSTOM-0000000001 (stores: [])" in str(t.describe())
    assert t.node("CUSTOM-0000000001").origin == "custom()"


def test_long_chains_compile_and_describe_without_recursion_limits() -> None:
    b = StreamsBuilder()
    s = b.stream("in").select_key(lambda k, v: v)
    for _ in range(2500):
        s = s.filter(lambda k, v: True)
    s.group_by_key().count()
    text = str(b.build({"topology.optimization": "all"}).describe())
    assert text.count("Processor: KSTREAM-FILTER-") == 2500
    assert "-repartition-filter (stores: [])" in text  # the merged repartition names its own filter
