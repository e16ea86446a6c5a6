"""The Python side of java/S1DescribeOracle.java: the same topologies, case by case."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pystreams import (Branched, Consumed, Grouped, Materialized, Named, Produced, Repartitioned, Serdes,
                       StreamsBuilder, Topology)
from pystreams.processor import Processor, Record
from pystreams.state import Stores

OPTIMIZED = {"topology.optimization": "all"}


class Noop(Processor[Any, Any, Any, Any]):
    def process(self, record: Record[Any, Any]) -> None:
        pass


def stateless_chain(b: StreamsBuilder) -> None:
    (b.stream("in").filter(lambda k, v: True).map_values(lambda v: v).filter_not(lambda k, v: False)
     .map(lambda k, v: (k, v)).flat_map_values(lambda v: [v]).to("out"))


def word_count(b: StreamsBuilder) -> None:
    b.stream("text").flat_map_values(lambda v: v.split()).group_by(lambda k, v: v).count().to_stream().to("out")


def word_count_named(b: StreamsBuilder) -> None:
    (b.stream("text").flat_map_values(lambda v: v.split()).group_by(lambda k, v: v)
     .count(Materialized.as_("counts-store")).to_stream().to("out"))


def split_merge(b: StreamsBuilder) -> None:
    br = (b.stream("in").split().branch(lambda k, v: True).branch(lambda k, v: False)
          .branch(lambda k, v: True, Branched.as_("x")).default_branch())
    br["KSTREAM-BRANCH-00000000011"].merge(br["KSTREAM-BRANCH-0000000001x"]).to("out")
    br["KSTREAM-BRANCH-00000000010"].peek(lambda k, v: None).foreach(lambda k, v: None)


def split_named_chain(b: StreamsBuilder) -> None:
    branches = (b.stream("in").split(Named("route-"))
                .branch(lambda k, v: True, Branched.with_function(lambda s: s.map_values(lambda v: v), "a"))
                .branch(lambda k, v: True, Branched.with_consumer(lambda s: s.to("b-out"), "b"))
                .no_default_branch())
    branches["route-a"].to("a-out")


def tables(b: StreamsBuilder) -> None:
    t = b.table("tin")
    t.filter(lambda k, v: True).map_values(lambda v: v).to_stream().to("out")
    t.group_by(lambda k, v: (v, k)).reduce(lambda a, v: a, lambda a, v: a).to_stream().to("out2")
    (t.group_by(lambda k, v: (v, k), Grouped.as_("g"))
     .aggregate(lambda: 0, lambda k, v, a: a, lambda k, v, a: a, Materialized.as_("aggs")).to_stream().to("out3"))


def table_named_source(b: StreamsBuilder) -> None:
    t = b.table("tin", Consumed.as_("people"))
    t.map_values(lambda v: v, Materialized.as_("mapped")).group_by(lambda k, v: (v, k)).count().to_stream().to("out")


def to_table(b: StreamsBuilder) -> None:
    b.stream("in").select_key(lambda k, v: v).to_table(Materialized.as_("latest")).to_stream().to("out")
    b.stream("in2").to_table().filter(lambda k, v: True).to_stream().to("out2")


def repartition(b: StreamsBuilder) -> None:
    s = b.stream("in")
    s.repartition().to("out")
    s.repartition(Repartitioned.as_("named").with_number_of_partitions(3)).filter(lambda k, v: True).to("out2")


def global_tables(b: StreamsBuilder) -> None:
    b.global_table("glob")
    b.stream("in").to("out")
    b.global_table("glob2", materialized=Materialized.as_("g2"))


def many_topics(b: StreamsBuilder) -> None:
    b.stream([f"topic-{i * 7 % 20}" for i in range(20)]).to("out")


def fan_out(b: StreamsBuilder) -> None:
    s = b.stream("in")
    s.filter(lambda k, v: True).to("a")
    s.map_values(lambda v: v).map_values(lambda v: v).map_values(lambda v: v).to("b")
    s.peek(lambda k, v: None)
    s.map(lambda k, v: (k, v)).filter(lambda k, v: True).to("c")
    m = s.filter_not(lambda k, v: True)
    m.merge(s.flat_map_values(lambda v: [v])).merge(m).to("d")
    s.select_key(lambda k, v: v).map_values(lambda v: v).to("e")


def three_groupings(b: StreamsBuilder) -> None:
    keyed = b.stream("in").select_key(lambda k, v: v)
    keyed.group_by_key().count().to_stream().to("c1")
    keyed.filter(lambda k, v: True).group_by_key().reduce(lambda a, v: a).to_stream().to("c2")
    keyed.map_values(lambda v: v).group_by_key().count().to_stream().to("c3")


def merge_then_group(b: StreamsBuilder) -> None:
    a = b.stream("a").map(lambda k, v: (v, k))
    c = b.stream("c").select_key(lambda k, v: v)
    merged = a.merge(c)
    merged.group_by_key().count().to_stream().to("o1")
    merged.group_by_key(Grouped.as_("second")).reduce(lambda x, y: x).to_stream().to("o2")


def process_stores(b: StreamsBuilder) -> None:
    for name in ("s1", "s2"):
        b.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store(name),
                                                         Serdes.String(), Serdes.Long()))
    s = b.stream("in")
    s.process(Noop, "s1", "s2").to("out")
    s.process(Noop, "s1", named="mine")
    s.process(Noop).group_by_key().count().to_stream().to("counted")


def table_source_reuse(b: StreamsBuilder) -> None:
    b.table("people", materialized=Materialized.as_("people-store")).to_stream().to("out")


def pattern_count_named(b: StreamsBuilder) -> None:
    b.stream(re.compile("in-.*")).group_by_key().count(Named("cnt")).to_stream().to("out")


def grouped_reuse(b: StreamsBuilder) -> None:
    g = b.stream("in").group_by(lambda k, v: v, Grouped.as_("grp"))
    g.count()
    g.reduce(lambda a, v: a)


def grouped_reuse_interleaved(b: StreamsBuilder) -> None:
    g = b.stream("in").group_by(lambda k, v: v, Grouped.as_("grp"))
    g.count().to_stream().to("o1")
    b.stream("in2").filter(lambda k, v: True).group_by_key().count().to_stream().to("o3")
    g.reduce(lambda x, y: x).to_stream().to("o2")
    gt = b.table("t").group_by(lambda k, v: (v, k), Grouped.as_("tg"))
    gt.count()
    b.stream("in3").to("o4")
    gt.reduce(lambda x, y: x, lambda x, y: x)


def dsl_joins_windows(b: StreamsBuilder) -> None:
    from datetime import timedelta

    from pystreams import JoinWindows, TimeWindows

    s, o, t = b.stream("a"), b.stream("b"), b.table("t")
    s.join(o, lambda v1, v2: v1, JoinWindows.of_time_difference_with_no_grace(timedelta(seconds=5))).to("x")
    s.left_join(t, lambda v1, v2: v1).to("y")
    s.group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(timedelta(minutes=1))).count()
    t.join(b.table("t2"), lambda x, y: x).to_stream().to("z")
    s.outer_join(o, lambda v1, v2: v1,
                 JoinWindows.of_time_difference_and_grace(timedelta(seconds=3), timedelta(seconds=1))).to("w")


def named_everything(b: StreamsBuilder) -> None:
    (b.stream("in", Consumed.as_("src")).filter(lambda k, v: True, Named("f"))
     .select_key(lambda k, v: v, Named("sk"))
     .group_by_key(Grouped.as_("by"))
     .aggregate(lambda: 0, lambda k, v, a: a, Materialized.as_("agg-store"), Named("agg"))
     .to_stream(named=Named("ts")).to("out", Produced.as_("sink")))


# name -> (builder function, build props)
CASES: dict[str, tuple[Callable[[StreamsBuilder], None], dict[str, str] | None]] = {
    "stateless_chain": (stateless_chain, None),
    "word_count": (word_count, None),
    "word_count_named": (word_count_named, None),
    "split_merge": (split_merge, None),
    "split_named_chain": (split_named_chain, None),
    "tables": (tables, None),
    "table_named_source": (table_named_source, None),
    "to_table": (to_table, None),
    "repartition": (repartition, None),
    "global_tables": (global_tables, None),
    "many_topics": (many_topics, None),
    "fan_out": (fan_out, None),
    "three_groupings": (three_groupings, None),
    "three_groupings_optimized": (three_groupings, OPTIMIZED),
    "merge_then_group_optimized": (merge_then_group, OPTIMIZED),
    "process_stores": (process_stores, None),
    "table_source_reuse": (table_source_reuse, OPTIMIZED),
    "pattern_count_named": (pattern_count_named, None),
    "grouped_reuse": (grouped_reuse, None),
    "grouped_reuse_interleaved": (grouped_reuse_interleaved, None),
    "dsl_joins_windows": (dsl_joins_windows, None),
    "named_everything": (named_everything, None),
}


def _store(name: str) -> Any:
    return Stores.key_value_store_builder(Stores.in_memory_key_value_store(name), Serdes.String(), Serdes.Long())


def papi_diamond() -> Topology:
    t = Topology()
    t.add_source("src", "t1", "t2")
    t.add_processor("p1", Noop, "src")
    t.add_processor("p2", Noop, "src")
    t.add_processor("p3", Noop, "p1", "p2")
    t.add_sink("sink", "out", "p3", "p1")
    t.add_state_store(_store("st"), "p1", "p3")
    return t


def papi_store_joins_subtopologies() -> Topology:
    t = Topology()
    t.add_source("a", "ta")
    t.add_source("b", "tb")
    t.add_source("c", pattern=re.compile("tc-[0-9]+"))
    t.add_processor("pa", Noop, "a")
    t.add_processor("pb", Noop, "b")
    t.add_processor("pc", Noop, "c")
    t.add_state_store(_store("shared"), "pa", "pb")
    t.add_state_store(_store("s2"))
    t.connect_processor_and_state_stores("pc", "s2")
    t.add_sink("out-b", "ob", "pb")
    return t


def papi_global_store() -> Topology:
    t = Topology()
    t.add_source("src", "in")
    t.add_processor("proc", Noop, "src")
    t.add_global_store(_store("global").with_logging_disabled(), "gsrc", "global-topic", "gproc", Noop,
                       key_serde=Serdes.String(), value_serde=Serdes.Long())
    t.add_source("src2", "in2")
    t.add_sink("sink2", "out2", "src2")
    return t


def papi_read_only_store() -> Topology:
    t = Topology()
    t.add_source("src", "in")
    t.add_processor("proc", Noop, "src")
    t.add_read_only_state_store(_store("ro"), "ro-source", "ro-topic", "ro-proc", Noop,
                                key_serde=Serdes.String(), value_serde=Serdes.Long())
    t.connect_processor_and_state_stores("proc", "ro")
    return t


def papi_wide() -> Topology:
    t = Topology()
    t.add_source("s", "in")
    prev = "s"
    for i in range(12):
        name = "n" + chr(ord("a") + (i * 5) % 12)
        t.add_processor(name, Noop, "s" if i % 3 == 0 else prev)
        prev = name
    t.add_sink("z-sink", "out", prev, "s")
    return t


PAPI_CASES: dict[str, Callable[[], Topology]] = {
    "papi_diamond": papi_diamond,
    "papi_store_joins_subtopologies": papi_store_joins_subtopologies,
    "papi_global_store": papi_global_store,
    "papi_read_only_store": papi_read_only_store,
    "papi_wide": papi_wide,
}


def describe(name: str) -> str:
    """Our describe() text for a case."""
    if name in PAPI_CASES:
        return str(PAPI_CASES[name]().describe())
    build, props = CASES[name]
    builder = StreamsBuilder()
    build(builder)
    return str(builder.build(props).describe())
