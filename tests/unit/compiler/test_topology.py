"""Processor-API Topology: building rules, introspection, and describe() text equal to Kafka's."""
from __future__ import annotations

import pytest

from pystreams.compiler import Topology, TopologyException
from pystreams.compiler.java_order import JavaTreeSet, hash_order, java_string_hash

pytestmark = pytest.mark.unit


class FakeStoreBuilder:
    def __init__(self, name: str, logging_enabled: bool = True) -> None:
        self.name = name
        self.logging_enabled = logging_enabled


def supplier() -> None:
    return None


def test_java_string_hash_matches_java() -> None:
    # values of "…".hashCode() in Java
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -2147483648
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112


def test_hash_order_buckets_then_insertion() -> None:
    # "Aa" and "BB" collide: same bucket, insertion order kept.
    assert hash_order(["BB", "Aa"]) == ["BB", "Aa"]
    assert hash_order(["Aa", "BB"]) == ["Aa", "BB"]
    # single-char strings hash to their code point: bucket = code & 15
    assert hash_order(["b", "a", "q"]) == ["a", "q", "b"]  # 97&15=1, 113&15=1, 98&15=2


def test_tree_set_sorted_for_consistent_comparator() -> None:
    tree: JavaTreeSet[int] = JavaTreeSet(lambda a, b: a - b)
    import random
    values = random.Random(7).sample(range(1000), 200)
    for v in values:
        tree.add(v)
    assert list(tree) == sorted(values)
    assert not tree.add(values[0])


# Kafka's TopologyTest#streamStreamJoinTopologyWithDefaultStoresNames, built with the Processor API.
JOIN_EXPECTED = (
    "Topologies:\n"
    "   Sub-topology: 0\n"
    "    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic1])\n"
    "      --> KSTREAM-WINDOWED-0000000002\n"
    "    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic2])\n"
    "      --> KSTREAM-WINDOWED-0000000003\n"
    "    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n"
    "      --> KSTREAM-JOINTHIS-0000000004\n"
    "      <-- KSTREAM-SOURCE-0000000000\n"
    "    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n"
    "      --> KSTREAM-JOINOTHER-0000000005\n"
    "      <-- KSTREAM-SOURCE-0000000001\n"
    "    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n"
    "      --> KSTREAM-MERGE-0000000006\n"
    "      <-- KSTREAM-WINDOWED-0000000003\n"
    "    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n"
    "      --> KSTREAM-MERGE-0000000006\n"
    "      <-- KSTREAM-WINDOWED-0000000002\n"
    "    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n"
    "      --> none\n"
    "      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005\n\n")


def build_join() -> Topology:
    t = Topology()
    t.add_source("KSTREAM-SOURCE-0000000000", "input-topic1")
    t.add_source("KSTREAM-SOURCE-0000000001", "input-topic2")
    t.add_processor("KSTREAM-WINDOWED-0000000002", supplier, "KSTREAM-SOURCE-0000000000")
    t.add_processor("KSTREAM-WINDOWED-0000000003", supplier, "KSTREAM-SOURCE-0000000001")
    t.add_processor("KSTREAM-JOINTHIS-0000000004", supplier, "KSTREAM-WINDOWED-0000000002")
    t.add_processor("KSTREAM-JOINOTHER-0000000005", supplier, "KSTREAM-WINDOWED-0000000003")
    t.add_processor("KSTREAM-MERGE-0000000006", supplier, "KSTREAM-JOINTHIS-0000000004",
                    "KSTREAM-JOINOTHER-0000000005")
    t.add_state_store(FakeStoreBuilder("KSTREAM-JOINTHIS-0000000004-store"),
                      "KSTREAM-WINDOWED-0000000002", "KSTREAM-JOINOTHER-0000000005")
    t.add_state_store(FakeStoreBuilder("KSTREAM-JOINOTHER-0000000005-store"),
                      "KSTREAM-WINDOWED-0000000003", "KSTREAM-JOINTHIS-0000000004")
    return t


def test_describe_join_matches_kafka_text() -> None:
    assert str(build_join().describe()) == JOIN_EXPECTED


def test_sources_without_link_are_separate_subtopologies_and_stores_join_them() -> None:
    t = Topology()
    t.add_source("s1", "a").add_source("s2", "b")
    t.add_processor("p1", supplier, "s1").add_processor("p2", supplier, "s2")
    assert [s.id for s in t.subtopologies()] == [0, 1]
    t.add_state_store(FakeStoreBuilder("st"), "p1", "p2")
    subs = t.subtopologies()
    assert len(subs) == 1 and set(subs[0].source_topics) == {"a", "b"}
    assert subs[0].store_names == ("st",)
    assert t.internal_topics()["changelog"] == {"st": "st-changelog"}
    assert t.changelog_topic("st", "app") == "app-st-changelog"


def test_children_in_insertion_order_and_sinks() -> None:
    t = Topology()
    t.add_source("src", "in")
    t.add_processor("b", supplier, "src").add_processor("a", supplier, "src")
    t.add_sink("out", "output", "a", "b")
    assert t.node("src").children == ["b", "a"]
    assert t.node("out").parents == ["a", "b"]
    assert t.subtopologies()[0].sink_topics == ("output",)
    text = str(t.describe())
    assert "    Sink: out (topic: output)\n      <-- a, b\n" in text


def test_global_store_described_as_kafka_does() -> None:
    t = Topology()
    t.add_source("src", "in")
    t.add_global_store(FakeStoreBuilder("gs", logging_enabled=False), "gsrc", "global-topic", "gproc",
                       supplier)
    assert str(t.describe()) == (
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: src (topics: [in])\n"
        "      --> none\n\n"
        "  Sub-topology: 1 for global store (will not generate tasks)\n"
        "    Source: gsrc (topics: [global-topic])\n"
        "      --> gproc\n"
        "    Processor: gproc (stores: [gs])\n"
        "      --> none\n"
        "      <-- gsrc\n")
    assert [s.id for s in t.subtopologies()] == [0]
    assert t.global_subtopology_nodes() == [("gsrc", "gproc", "gs")]


@pytest.mark.parametrize("build, message", [
    (lambda t: t.add_source("src", "other"), "Processor src is already added"),
    (lambda t: t.add_source("s2", "in"), "Topic in has already been registered"),
    (lambda t: t.add_processor("p", supplier, "nope"), "Predecessor processor nope is not added yet"),
    (lambda t: t.add_processor("p", supplier), "must have at least one parent"),
    (lambda t: t.connect_processor_and_state_stores("src", "x"), "StateStore x is not added yet"),
    (lambda t: t.add_state_store(FakeStoreBuilder("x"), "src"), "cannot connect a state store x to a source"),
    (lambda t: t.add_source("s3", pattern="i.*"), "Pattern i.* will match a topic"),
])
def test_invalid_topologies_raise_clear_errors(build, message) -> None:  # type: ignore[no-untyped-def]
    t = Topology()
    t.add_source("src", "in")
    with pytest.raises(TopologyException, match=message):
        build(t)


def test_duplicate_store_name_rejected() -> None:
    t = Topology()
    t.add_state_store(FakeStoreBuilder("s"))
    with pytest.raises(TopologyException, match="A different StateStore"):
        t.add_state_store(FakeStoreBuilder("s"))


def test_supplier_must_build_a_new_processor_each_time() -> None:
    shared = object()
    t = Topology()
    t.add_source("src", "in")
    with pytest.raises(TopologyException, match="same Processor instance twice"):
        t.add_processor("p", lambda: shared, "src")
    t.add_processor("ok", lambda: object(), "src")


class LoggingStoreBuilder(FakeStoreBuilder):
    def with_logging_disabled(self) -> "LoggingStoreBuilder":
        self.logging_enabled = False
        return self


def test_read_only_state_store_uses_its_topic_as_changelog() -> None:
    t = Topology()
    t.add_read_only_state_store(LoggingStoreBuilder("ro"), "ro-source", "ro-topic", "ro-proc", supplier)
    assert t.node("ro-proc").stores == ["ro"]
    assert t.internal_topics()["changelog"] == {}
    assert t.internal_topics()["source_changelog"] == {"ro": "ro-topic"}
    assert t.changelog_topic("ro", "app") == "ro-topic"
    assert "Processor: ro-proc (stores: [ro])" in str(t.describe())
