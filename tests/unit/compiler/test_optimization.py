"""topology.optimization=all, against Kafka's RepartitionWithMergeOptimizingTest expected text."""
from __future__ import annotations

import pytest

from pystreams import Consumed, Grouped, Materialized, Named, Produced, Serdes, StreamsBuilder
from pystreams.compiler.optimize import rules
from pystreams.errors import ConfigError
from pystreams.state import Stores

pytestmark = pytest.mark.unit

OPTIMIZED = (
    "Topologies:\n"
    "   Sub-topology: 0\n"
    "    Source: sourceAStream (topics: [inputA])\n"
    "      --> mappedAStream\n"
    "    Source: sourceBStream (topics: [inputB])\n"
    "      --> mappedBStream\n"
    "    Processor: mappedAStream (stores: [])\n"
    "      --> mergedStream\n"
    "      <-- sourceAStream\n"
    "    Processor: mappedBStream (stores: [])\n"
    "      --> mergedStream\n"
    "      <-- sourceBStream\n"
    "    Processor: mergedStream (stores: [])\n"
    "      --> long-groupByKey-repartition-filter\n"
    "      <-- mappedAStream, mappedBStream\n"
    "    Processor: long-groupByKey-repartition-filter (stores: [])\n"
    "      --> long-groupByKey-repartition-sink\n"
    "      <-- mergedStream\n"
    "    Sink: long-groupByKey-repartition-sink (topic: long-groupByKey-repartition)\n"
    "      <-- long-groupByKey-repartition-filter\n"
    "\n"
    "  Sub-topology: 1\n"
    "    Source: long-groupByKey-repartition-source (topics: [long-groupByKey-repartition])\n"
    "      --> long-count, string-count\n"
    "    Processor: string-count (stores: [string-store])\n"
    "      --> string-toStream\n"
    "      <-- long-groupByKey-repartition-source\n"
    "    Processor: long-count (stores: [long-store])\n"
    "      --> long-toStream\n"
    "      <-- long-groupByKey-repartition-source\n"
    "    Processor: string-toStream (stores: [])\n"
    "      --> string-mapValues\n"
    "      <-- string-count\n"
    "    Processor: long-toStream (stores: [])\n"
    "      --> long-to\n"
    "      <-- long-count\n"
    "    Processor: string-mapValues (stores: [])\n"
    "      --> string-to\n"
    "      <-- string-toStream\n"
    "    Sink: long-to (topic: outputTopic_0)\n"
    "      <-- long-toStream\n"
    "    Sink: string-to (topic: outputTopic_1)\n"
    "      <-- string-mapValues\n\n")

UNOPTIMIZED_SUBTOPOLOGY_0 = (
    "    Processor: mergedStream (stores: [])\n"
    "      --> long-groupByKey-repartition-filter, string-groupByKey-repartition-filter\n"
    "      <-- mappedAStream, mappedBStream\n")


def merge_topology() -> StreamsBuilder:
    b = StreamsBuilder()
    a = b.stream("inputA", Consumed(Serdes.String(), Serdes.String(), name="sourceAStream"))
    bb = b.stream("inputB", Consumed(Serdes.String(), Serdes.String(), name="sourceBStream"))
    mapped_a = a.map(lambda k, v: (v.split(":")[0], v), Named("mappedAStream"))
    mapped_b = bb.map(lambda k, v: (v.split(":")[0], v), Named("mappedBStream"))
    merged = mapped_a.merge(mapped_b, Named("mergedStream"))
    (merged.group_by_key(Grouped.as_("long-groupByKey"))
     .count(Materialized.as_(Stores.in_memory_key_value_store("long-store")), Named("long-count"))
     .to_stream(named=Named("long-toStream"))
     .to("outputTopic_0", Produced(Serdes.String(), Serdes.Long(), name="long-to")))
    (merged.group_by_key(Grouped.as_("string-groupByKey"))
     .count(Materialized.as_(Stores.in_memory_key_value_store("string-store")), Named("string-count"))
     .to_stream(named=Named("string-toStream"))
     .map_values(str, Named("string-mapValues"))
     .to("outputTopic_1", Produced(Serdes.String(), Serdes.String(), name="string-to")))
    return b


def test_merge_repartition_topics_through_merge_node() -> None:
    t = merge_topology().build({"topology.optimization": "all"})
    assert str(t.describe()) == OPTIMIZED
    assert t.internal_topics()["repartition"] == ["long-groupByKey-repartition"]


def test_without_optimization_each_grouping_has_its_topic() -> None:
    t = merge_topology().build()
    assert UNOPTIMIZED_SUBTOPOLOGY_0 in str(t.describe())
    assert t.internal_topics()["repartition"] == ["long-groupByKey-repartition",
                                                   "string-groupByKey-repartition"]
    assert len(t.subtopologies()) == 3


def test_generated_repartition_names_when_merged() -> None:
    b = StreamsBuilder()
    keyed = b.stream("in").select_key(lambda k, v: v)
    keyed.group_by_key().count()
    keyed.group_by_key().reduce(lambda a, v: v)
    t = b.build({"topology.optimization": "all"})
    text = str(t.describe())
    topic = "KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition"
    assert t.internal_topics()["repartition"] == [topic]
    assert f"Processor: {topic}-filter (stores: [])" in text
    assert f"Source: {topic}-source (topics: [{topic}])\n      --> KSTREAM-AGGREGATE-0000000003, KSTREAM-REDUCE-0000000008\n" in text


def test_value_change_between_key_change_and_grouping_prevents_merging() -> None:
    b = StreamsBuilder()
    keyed = b.stream("in").select_key(lambda k, v: v)
    keyed.map_values(lambda v: v).group_by_key().count()
    keyed.group_by_key().count()
    t = b.build({"topology.optimization": "all"})
    assert len(t.internal_topics()["repartition"]) == 2


def test_reuse_source_topic_as_changelog() -> None:
    b = StreamsBuilder()
    b.table("people", materialized=Materialized.as_("people-store")).to_stream().to("out")
    plain = b.build()
    assert plain.internal_topics()["changelog"] == {"people-store": "people-store-changelog"}
    optimized = b.build({"topology.optimization": "all"})
    assert optimized.internal_topics()["changelog"] == {}
    assert optimized.internal_topics()["source_changelog"] == {"people-store": "people"}
    assert optimized.changelog_topic("people-store", "app") == "people"
    assert str(optimized.describe()) == str(plain.describe())


def test_optimization_config_values() -> None:
    assert rules({"topology.optimization": "all"}) == {
        "reuse.ktable.source.topics", "merge.repartition.topics", "single.store.self.join"}
    assert rules({"topology.optimization": "none"}) == set()
    assert rules({"topology.optimization": "merge.repartition.topics"}) == {"merge.repartition.topics"}
    with pytest.raises(ConfigError, match="topology.optimization"):
        rules({"topology.optimization": "everything"})
