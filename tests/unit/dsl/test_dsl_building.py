"""The DSL builds an immutable graph with Kafka's names; bad calls fail at build time naming the fix."""
from __future__ import annotations

import re

import pytest

from pystreams import (Branched, Consumed, Grouped, KeyValue, Materialized, Named, Produced, Repartitioned,
                       StreamsBuilder)
from pystreams.errors import TopologyError
from pystreams.graph import LogicalGraph, ProcessorGraphNode, RepartitionNode, SinkGraphNode

pytestmark = pytest.mark.unit


def test_counter_is_shared_by_nodes_and_stores_and_burned_by_user_names() -> None:
    b = StreamsBuilder()
    s = b.stream("in")                                      # 0
    s = s.filter(lambda k, v: True, Named("mine"))          # 1 (burned)
    s.group_by_key().count(Materialized())                  # burns store 2, store 3, aggregate 4
    names = [n.name for n in b.graph()]
    assert names == ["KSTREAM-SOURCE-0000000000", "mine", "KSTREAM-AGGREGATE-0000000004"]
    agg = b.graph().node("KSTREAM-AGGREGATE-0000000004")
    assert agg.store.name == "KSTREAM-AGGREGATE-STATE-STORE-0000000003"  # type: ignore[attr-defined]


def test_graph_snapshot_is_immutable_and_ordered() -> None:
    b = StreamsBuilder()
    s = b.stream("in")
    first = b.graph()
    s.map_values(str).to("out")
    second = b.graph()
    assert isinstance(first, LogicalGraph) and len(first) == 1 and len(second) == 3
    node = second.node("KSTREAM-MAPVALUES-0000000001")
    with pytest.raises(AttributeError):
        node.name = "x"  # type: ignore[misc]
    assert [c.name for c in second.children("KSTREAM-SOURCE-0000000000")] == ["KSTREAM-MAPVALUES-0000000001"]


def test_stream_from_list_and_pattern() -> None:
    b = StreamsBuilder()
    b.stream(["a", "b"]).to("out")
    b.stream(re.compile("t-.*")).to("out2")
    text = str(b.build().describe())
    assert "Source: KSTREAM-SOURCE-0000000000 (topics: [a, b])" in text
    assert "Source: KSTREAM-SOURCE-0000000002 (topics: t-.*)" in text


def test_multi_topic_source_prints_in_java_hashset_order() -> None:
    b = StreamsBuilder()
    b.stream(["topic3", "topic1", "topic2"]).to("out")
    # java.util.HashSet of these strings iterates topic1, topic2, topic3
    assert "(topics: [topic1, topic2, topic3])" in str(b.build().describe())


def test_serdes_flow_like_kafka() -> None:
    b = StreamsBuilder()
    k, v = object(), object()
    s = b.stream("in", Consumed(k, v))
    assert (s.filter(lambda a, c: True).key_serde, s.filter(lambda a, c: True).value_serde) == (k, v)
    assert s.map_values(str).value_serde is None and s.map_values(str).key_serde is k
    assert s.select_key(lambda a, c: c).key_serde is None
    s.to("out")
    sink = [n for n in b.graph() if isinstance(n, SinkGraphNode)][0]
    assert (sink.key_serde, sink.value_serde) == (k, v)
    override = object()
    s.to("out2", Produced(value_serde=override))
    sink2 = [n for n in b.graph() if isinstance(n, SinkGraphNode)][1]
    assert (sink2.key_serde, sink2.value_serde) == (k, override)


@pytest.mark.parametrize("call, message", [
    (lambda s: s.filter(lambda v: True), r"KStream.filter: the function .* takes 1 argument\(s\).*predicate\(key, value\)"),
    (lambda s: s.map(lambda v: v), r"KStream.map: .*mapper\(key, value\) -> \(key, value\)"),
    (lambda s: s.map_values(lambda a, b, c: a), r"KStream.map_values: .*1 or 2 parameters"),
    (lambda s: s.group_by(lambda k: k), r"KStream.group_by"),
    (lambda s: s.group_by_key().aggregate(lambda: 0, lambda k, v: 0), r"aggregator\(key, value, aggregate\)"),
    (lambda s: s.group_by_key().reduce(lambda a: a), r"KGroupedStream.reduce"),
    (lambda s: s.peek("not a function"), r"KStream.peek: expected a function"),
    (lambda s: s.to(lambda k, v: "t"), r"extractor\(key, value, record_context\)"),
])
def test_wrong_arity_fails_at_build_time_naming_the_operator(call, message) -> None:  # type: ignore[no-untyped-def]
    s = StreamsBuilder().stream("in")
    with pytest.raises(TopologyError, match=message):
        call(s)


def test_map_values_accepts_value_or_key_value_functions_and_builtins() -> None:
    b = StreamsBuilder()
    s = b.stream("in")
    s.map_values(str.upper)
    s.map_values(lambda k, v: v)
    s.map_values(len)
    ops = [dict(n.options)["with_key"] for n in b.graph() if isinstance(n, ProcessorGraphNode)]
    assert ops == [False, True, False]


def test_duplicate_names_are_rejected_with_the_fix() -> None:
    s = StreamsBuilder().stream("in")
    s.filter(lambda k, v: True, Named("same"))
    with pytest.raises(TopologyError, match="two operators share the name 'same'"):
        s.map_values(str, Named("same"))


def test_illegal_names_are_rejected() -> None:
    with pytest.raises(TopologyError, match="illegal"):
        Named("bad name!")
    with pytest.raises(TopologyError, match="longer than 249"):
        Grouped.as_("x" * 250)


def test_streams_from_two_builders_cannot_merge() -> None:
    a, b = StreamsBuilder().stream("a"), StreamsBuilder().stream("b")
    with pytest.raises(TopologyError, match="same StreamsBuilder"):
        a.merge(b)


def test_process_with_unknown_store_fails_naming_operator() -> None:
    class P:
        def process(self, record: object) -> None: ...

    b = StreamsBuilder()
    b.stream("in").process(P, "missing-store")
    with pytest.raises(TopologyError, match=r"KStream.process \(KSTREAM-PROCESSOR-0000000001\) uses store"):
        b.build()


def test_process_named_does_not_burn_a_name() -> None:
    class P:
        def process(self, record: object) -> None: ...

    b = StreamsBuilder()
    s = b.stream("in")
    s.process(P, named="proc")
    s.process(P)
    names = [n.name for n in b.graph()]
    assert names == ["KSTREAM-SOURCE-0000000000", "proc", "KSTREAM-PROCESSOR-0000000001"]


def test_split_with_chain_and_consumer() -> None:
    b = StreamsBuilder()
    seen = []
    out = (b.stream("in").split()
           .branch(lambda k, v: v == 1, Branched.with_function(lambda s: s.map_values(str), "one"))
           .branch(lambda k, v: v == 2, Branched.with_consumer(seen.append, "two"))
           .no_default_branch())
    assert list(out) == ["KSTREAM-BRANCH-0000000001one"]
    assert len(seen) == 1 and seen[0].name == "KSTREAM-BRANCH-0000000001two"
    splitter = b.graph().node("KSTREAM-BRANCH-0000000001")
    assert dict(splitter.options)["children"] == ("KSTREAM-BRANCH-0000000001one",  # type: ignore[attr-defined]
                                                  "KSTREAM-BRANCH-0000000001two")


def test_repartition_naming() -> None:
    b = StreamsBuilder()
    b.stream("in").repartition(Repartitioned.as_("shuffle").with_number_of_partitions(3)).to("out")
    rep = [n for n in b.graph() if isinstance(n, RepartitionNode)][0]
    assert (rep.name, rep.sink_name, rep.filter_name, rep.topic, rep.partitions) == (
        "shuffle-repartition-source", "shuffle-repartition-sink", "shuffle-repartition-filter",
        "shuffle-repartition", 3)
    assert b.build().repartition_topics()[0].partitions == 3


def test_keyvalue_is_a_pair() -> None:
    kv = KeyValue.pair("k", 1)
    key, value = kv
    assert (key, value) == ("k", 1) and kv == ("k", 1)


def test_to_table_after_key_change_repartitions() -> None:
    b = StreamsBuilder()
    b.stream("in").select_key(lambda k, v: v).to_table(Materialized.as_("latest")).to_stream().to("out")
    t = b.build()
    assert t.internal_topics()["repartition"] == ["KSTREAM-TOTABLE-0000000002-repartition"]
    assert "Processor: KSTREAM-TOTABLE-0000000002 (stores: [latest])" in str(t.describe())
