"""Every stateless DSL operator (and the stateful wiring) run through the TopologyTestDriver."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pystreams import (Branched, Consumed, Grouped, KeyValue, Materialized, Named, Printed, Produced,
                       Repartitioned, Serdes, StreamsBuilder)
from pystreams.processor import FixedKeyProcessor, FixedKeyRecord, Processor, Record
from pystreams.state import Stores
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

S = Serdes.String()
CONFIG = {"application.id": "dsl-test", "default.key.serde": "string", "default.value.serde": "string"}


def strings(builder: StreamsBuilder, topic: str = "in") -> Any:
    return builder.stream(topic, Consumed(Serdes.String(), Serdes.String()))


def run(builder: StreamsBuilder, inputs: list[tuple[Any, Any]], outputs: dict[str, Any] | None = None,
        topic: str = "in", props: dict[str, str] | None = None) -> dict[str, list[tuple[Any, Any]]]:
    outputs = outputs or {"out": S}
    with TopologyTestDriver(builder.build(props), CONFIG) as driver:
        source = driver.create_input_topic(topic, S, S)
        sinks = {name: driver.create_output_topic(name, S, serde) for name, serde in outputs.items()}
        for key, value in inputs:
            source.pipe_input(key, value)
        return {name: [tuple(kv) for kv in sink.read_key_values_to_list()] for name, sink in sinks.items()}


def test_filter_and_filter_not() -> None:
    b = StreamsBuilder()
    s = strings(b)
    s.filter(lambda k, v: v.startswith("a")).to("out")
    s.filter_not(lambda k, v: v.startswith("a")).to("other")
    got = run(b, [("1", "apple"), ("2", "pear"), ("3", "avocado")], {"out": S, "other": S})
    assert got == {"out": [("1", "apple"), ("3", "avocado")], "other": [("2", "pear")]}


def test_map_select_key_and_map_values() -> None:
    b = StreamsBuilder()
    s = strings(b)
    s.map(lambda k, v: KeyValue(v, k)).to("swapped")
    s.map(lambda k, v: (k + "!", v.upper())).to("tuple")
    s.select_key(lambda k, v: v[0]).to("first")
    s.map_values(str.upper).to("upper")
    s.map_values(lambda k, v: f"{k}={v}").to("with-key")
    got = run(b, [("1", "ab"), ("2", "cd")],
              {"swapped": S, "tuple": S, "first": S, "upper": S, "with-key": S})
    assert got == {"swapped": [("ab", "1"), ("cd", "2")], "tuple": [("1!", "AB"), ("2!", "CD")],
                   "first": [("a", "ab"), ("c", "cd")], "upper": [("1", "AB"), ("2", "CD")],
                   "with-key": [("1", "1=ab"), ("2", "2=cd")]}


def test_flat_map_and_flat_map_values() -> None:
    b = StreamsBuilder()
    s = strings(b)
    s.flat_map(lambda k, v: [(w, k) for w in v.split()]).to("words")
    s.flat_map_values(lambda v: v.split()).to("values")
    s.flat_map_values(lambda k, v: [] if k == "skip" else [v]).to("keyed")
    got = run(b, [("1", "a b"), ("skip", "c")], {"words": S, "values": S, "keyed": S})
    assert got == {"words": [("a", "1"), ("b", "1"), ("c", "skip")],
                   "values": [("1", "a"), ("1", "b"), ("skip", "c")], "keyed": [("1", "a b")]}


def test_peek_foreach_and_print(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[str, str]] = []
    done: list[str] = []
    b = StreamsBuilder()
    s = strings(b)
    s.peek(lambda k, v: seen.append((k, v))).to("out")
    s.foreach(lambda k, v: done.append(v))
    s.print(Printed.to_sys_out().with_label("lbl"))
    got = run(b, [("1", "x"), (None, "y")])
    assert got["out"] == [("1", "x"), (None, "y")]
    assert seen == [("1", "x"), (None, "y")] and done == ["x", "y"]
    assert capsys.readouterr().out == "[lbl]: 1, x\n[lbl]: null, y\n"


def test_split_routes_to_first_match_and_default() -> None:
    b = StreamsBuilder()
    branches = (strings(b).split(Named("b-"))
                .branch(lambda k, v: v.isdigit(), Branched.as_("num"))
                .branch(lambda k, v: v.isalpha(), Branched.as_("alpha"))
                .default_branch(Branched.as_("other")))
    branches["b-num"].to("num")
    branches["b-alpha"].to("alpha")
    branches["b-other"].to("other")
    got = run(b, [("1", "12"), ("2", "ab"), ("3", "a1"), ("4", "7")], {"num": S, "alpha": S, "other": S})
    assert got == {"num": [("1", "12"), ("4", "7")], "alpha": [("2", "ab")], "other": [("3", "a1")]}


def test_merge_keeps_both_streams() -> None:
    b = StreamsBuilder()
    left = strings(b, "in")
    right = strings(b, "in2")
    left.merge(right).to("out")
    with TopologyTestDriver(b.build(), CONFIG) as driver:
        a = driver.create_input_topic("in", S, S)
        c = driver.create_input_topic("in2", S, S)
        out = driver.create_output_topic("out", S, S)
        a.pipe_input("1", "a")
        c.pipe_input("2", "b")
        a.pipe_input("3", "c")
        assert out.read_key_values_to_list() == [("1", "a"), ("2", "b"), ("3", "c")]


def test_to_with_topic_extractor() -> None:
    b = StreamsBuilder()
    strings(b).to(lambda k, v, ctx: f"out-{v}")
    got = run(b, [("1", "x"), ("2", "y"), ("3", "x")], {"out-x": S, "out-y": S})
    assert got == {"out-x": [("1", "x"), ("3", "x")], "out-y": [("2", "y")]}


def test_repartition_passes_records_through_the_internal_topic() -> None:
    b = StreamsBuilder()
    strings(b).select_key(lambda k, v: v).repartition(Repartitioned.as_("by-value")).to("out")
    got = run(b, [("1", "x"), ("2", "y")])
    assert got["out"] == [("x", "x"), ("y", "y")]


def test_process_and_process_values_with_a_store() -> None:
    class Counter(Processor[str, str, str, str]):
        def init(self, context: Any) -> None:
            self.context = context
            self.store = context.get_state_store("seen")

        def process(self, record: Record[str, str]) -> None:
            n = (self.store.get(record.key) or 0) + 1
            self.store.put(record.key, n)
            self.context.forward(record.with_value(f"{record.value}#{n}"))

    class Upper(FixedKeyProcessor[str, str, str]):
        def init(self, context: Any) -> None:
            self.context = context

        def process(self, record: FixedKeyRecord[str, str]) -> None:
            self.context.forward(record.with_value(record.value.upper()))

    b = StreamsBuilder()
    b.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("seen"),
                                                     Serdes.String(), Serdes.Long()))
    strings(b).process(Counter, "seen").process_values(Upper).to("out")
    got = run(b, [("a", "x"), ("a", "y"), ("b", "z")])
    assert got["out"] == [("a", "X#1"), ("a", "Y#2"), ("b", "Z#1")]


def test_group_by_count_reduce_aggregate() -> None:
    b = StreamsBuilder()
    words = strings(b).flat_map_values(lambda v: v.split())
    grouped = words.group_by(lambda k, w: w, Grouped(Serdes.String(), Serdes.String()))
    grouped.count(Materialized.as_("counts")).to_stream().to("count", Produced(S, Serdes.Long()))
    grouped.reduce(lambda a, v: a + v).to_stream().to("reduce")
    (grouped.aggregate(lambda: 0, lambda k, v, agg: agg + len(v), Materialized.with_(S, Serdes.Long()))
     .to_stream().to("agg", Produced(S, Serdes.Long())))
    got = run(b, [("1", "a bb a")], {"count": Serdes.Long(), "reduce": S, "agg": Serdes.Long()})
    assert got["count"] == [("a", 1), ("bb", 1), ("a", 2)]
    assert got["reduce"] == [("a", "a"), ("bb", "bb"), ("a", "aa")]
    assert got["agg"] == [("a", 1), ("bb", 2), ("a", 2)]


def test_tables_filter_map_values_group_by_and_to_table() -> None:
    b = StreamsBuilder()
    table = b.table("in", Consumed(S, S))
    table.filter(lambda k, v: v != "drop").map_values(str.upper).to_stream().to("out")
    (table.group_by(lambda k, v: (v, k), Grouped(S, S)).count(Materialized.as_("per-value"))
     .to_stream().to("count", Produced(S, Serdes.Long())))
    strings(b, "in2").to_table(Materialized.as_("latest"))
    with TopologyTestDriver(b.build(), CONFIG) as driver:
        source = driver.create_input_topic("in", S, S)
        out = driver.create_output_topic("out", S, S)
        count = driver.create_output_topic("count", S, Serdes.Long())
        latest = driver.create_input_topic("in2", S, S)
        source.pipe_input("k1", "x")
        source.pipe_input("k2", "x")
        source.pipe_input("k1", "drop")
        latest.pipe_input("a", "1")
        latest.pipe_input("a", "2")
        assert out.read_key_values_to_list() == [("k1", "X"), ("k2", "X"), ("k1", None)]
        assert count.read_key_values_to_map() == {"x": 1, "drop": 1}
        assert driver.get_key_value_store("latest").get("a") == "2"
        assert driver.get_key_value_store("per-value").get("x") == 1


def optimized_runs() -> Iterator[dict[str, str] | None]:
    yield None
    yield {"topology.optimization": "all"}


@pytest.mark.parametrize("props", list(optimized_runs()))
def test_optimization_does_not_change_results(props: dict[str, str] | None) -> None:
    b = StreamsBuilder()
    keyed = strings(b).select_key(lambda k, v: v)
    keyed.group_by_key().count().to_stream().to("count", Produced(S, Serdes.Long()))
    keyed.group_by_key().reduce(lambda a, v: a + v).to_stream().to("reduce")
    got = run(b, [("1", "x"), ("2", "y"), ("3", "x")], {"count": Serdes.Long(), "reduce": S}, props=props)
    assert got == {"count": [("x", 1), ("y", 1), ("x", 2)], "reduce": [("x", "x"), ("y", "y"), ("x", "xx")]}


def test_repartition_drops_null_keys_like_kafka() -> None:
    b = StreamsBuilder()
    strings(b).select_key(lambda k, v: None if v == "drop" else v).repartition().to("out")
    got = run(b, [("1", "x"), ("2", "drop"), ("3", "y")])
    assert got["out"] == [("x", "x"), ("y", "y")]


def test_pattern_source_global_table_and_table_reduce() -> None:
    import re

    b = StreamsBuilder()
    b.stream(re.compile("in-[0-9]+"), Consumed(S, S)).to("out")
    b.global_table("glob", Consumed(S, S), Materialized.as_("glob-store"))
    table = b.table("tab", Consumed(S, S))
    table.filter_not(lambda k, v: v.startswith("x")).to_stream().to("kept")
    (table.group_by(lambda k, v: (v[:1], v), Grouped(S, S))
     .reduce(lambda agg, v: agg + v, lambda agg, v: agg.replace(v, "", 1), Materialized.as_("by-first"))
     .to_stream().to("reduced"))
    with TopologyTestDriver(b.build(), CONFIG) as driver:
        in1 = driver.create_input_topic("in-1", S, S)
        in2 = driver.create_input_topic("in-22", S, S)
        glob = driver.create_input_topic("glob", S, S)
        tab = driver.create_input_topic("tab", S, S)
        out = driver.create_output_topic("out", S, S)
        kept = driver.create_output_topic("kept", S, S)
        reduced = driver.create_output_topic("reduced", S, S)
        in1.pipe_input("a", "1")
        in2.pipe_input("b", "2")
        glob.pipe_input("g", "global")
        tab.pipe_input("k1", "ab")
        tab.pipe_input("k2", "ac")
        tab.pipe_input("k1", "xy")
        assert out.read_key_values_to_list() == [("a", "1"), ("b", "2")]
        assert driver.get_key_value_store("glob-store").get("g") == "global"
        assert kept.read_key_values_to_list() == [("k1", "ab"), ("k2", "ac"), ("k1", None)]
        assert reduced.read_key_values_to_map() == {"a": "ac", "x": "xy"}


def test_to_with_a_topic_name_extractor_object() -> None:
    class ByFirstLetter:
        def extract(self, key: str, value: str, record_context: Any) -> str:
            return f"letter-{value[0]}"

    b = StreamsBuilder()
    strings(b).to(ByFirstLetter())
    got = run(b, [("1", "ab"), ("2", "bc")], {"letter-a": S, "letter-b": S})
    assert got == {"letter-a": [("1", "ab")], "letter-b": [("2", "bc")]}
    assert "extractor class: " in str(b.build().describe())
    assert "flowchart TD" in b._repr_mimebundle_()["text/vnd.mermaid"]


def test_supplier_with_its_own_stores_is_connected() -> None:
    class Remember(Processor[str, str, str, str]):
        def init(self, context: Any) -> None:
            self.context = context
            self.store = context.get_state_store("last")

        def process(self, record: Record[str, str]) -> None:
            previous = self.store.get(record.key)
            self.store.put(record.key, record.value)
            self.context.forward(record.with_value(f"{previous}->{record.value}"))

    class Supplier:
        def __call__(self) -> Remember:
            return Remember()

        def stores(self) -> list[Any]:
            return [Stores.key_value_store_builder(Stores.in_memory_key_value_store("last"), S, S)]

    b = StreamsBuilder()
    strings(b).process(Supplier()).to("out")
    assert "(stores: [last])" in str(b.build().describe())
    got = run(b, [("a", "1"), ("a", "2")])
    assert got["out"] == [("a", "None->1"), ("a", "1->2")]
