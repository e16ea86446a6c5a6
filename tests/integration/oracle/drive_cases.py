"""The Python side of java/S1DriveOracle.java: same topologies, run through our TopologyTestDriver."""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from pystreams import Branched, Materialized, Named, Produced, Repartitioned, Serdes, StreamsBuilder
from pystreams.processor import FixedKeyProcessor, FixedKeyRecord, Processor, Record
from pystreams.state import Stores
from pystreams.testing import TestRecord, TopologyTestDriver

S = Serdes.String()
LONGS = Produced(Serdes.String(), Serdes.Long())
CONFIG = {"application.id": "s1-oracle", "default.key.serde": "string", "default.value.serde": "string"}

Outputs = dict[str, bool]  # topic -> values are longs


def stateless(b: StreamsBuilder) -> Outputs:
    s = b.stream("in")
    s.filter(lambda k, v: v is not None and "1" in v).to("filtered")
    s.filter_not(lambda k, v: v is None or len(v) > 3).map_values(lambda v: v.upper()).to("upper")
    s.flat_map_values(lambda v: [] if v is None else v.split("-")).to("parts")
    s.select_key(lambda k, v: None if v is None else v[:1]).to("rekeyed")
    s.map(lambda k, v: (v, k)).to("swapped")
    s.flat_map(lambda k, v: [] if v is None else [(k, v), (v, k)]).to("both")
    return {"filtered": False, "upper": False, "parts": False, "rekeyed": False, "swapped": False, "both": False}


def split_merge(b: StreamsBuilder) -> Outputs:
    br = (b.stream("in").split(Named("b-"))
          .branch(lambda k, v: v is not None and v.startswith("a"), Branched.as_("a"))
          .branch(lambda k, v: v is not None and v.startswith("b"), Branched.as_("b"))
          .default_branch(Branched.as_("rest")))
    br["b-a"].merge(br["b-b"]).to("ab")
    br["b-rest"].to("rest")
    b.stream("in2").merge(br["b-a"]).to("merged")
    return {"ab": False, "rest": False, "merged": False}


def word_count(b: StreamsBuilder) -> Outputs:
    (b.stream("in").flat_map_values(lambda v: [] if v is None else v.split("-"))
     .group_by(lambda k, v: v).count().to_stream().to("counts", LONGS))
    return {"counts": True}


def aggregations(b: StreamsBuilder) -> Outputs:
    g = b.stream("in").group_by_key()
    g.reduce(lambda a, v: a + "|" + v).to_stream().to("reduced")
    (g.aggregate(lambda: 0, lambda k, v, a: a + len(v), Materialized.with_(S, Serdes.Long()))
     .to_stream().to("lengths", LONGS))
    g.count(Materialized.as_("key-counts")).to_stream().to("key-counts", LONGS)
    return {"reduced": False, "lengths": True, "key-counts": True}


def tables(b: StreamsBuilder) -> Outputs:
    t = b.table("in")
    t.filter(lambda k, v: "1" in v).to_stream().to("t-filtered")
    t.map_values(lambda v: v.upper(), Materialized.as_("upper-store")).to_stream().to("t-upper")
    t.group_by(lambda k, v: (v[:1], v)).count().to_stream().to("t-count", LONGS)
    (t.group_by(lambda k, v: (v[:1], v))
     .aggregate(lambda: 0, lambda k, v, a: a + len(v), lambda k, v, a: a - len(v),
                Materialized.with_(S, Serdes.Long()))
     .to_stream().to("t-len", LONGS))
    return {"t-filtered": False, "t-upper": False, "t-count": True, "t-len": True}


def to_table(b: StreamsBuilder) -> Outputs:
    (b.stream("in").select_key(lambda k, v: None if v is None else v[:1])
     .to_table(Materialized.as_("latest")).to_stream().to("latest"))
    return {"latest": False}


def three_groupings(b: StreamsBuilder) -> Outputs:
    keyed = b.stream("in").select_key(lambda k, v: k if v is None else v[:1])
    keyed.group_by_key().count().to_stream().to("c1", LONGS)
    keyed.filter(lambda k, v: v is not None and len(v) > 2).group_by_key().reduce(lambda a, v: a + v) \
        .to_stream().to("c2")
    keyed.map_values(lambda v: "" if v is None else v).group_by_key().count().to_stream().to("c3", LONGS)
    return {"c1": True, "c2": False, "c3": True}


def repartition(b: StreamsBuilder) -> Outputs:
    (b.stream("in").select_key(lambda k, v: v).repartition(Repartitioned.as_("shuffle"))
     .group_by_key().count().to_stream().to("counts", LONGS))
    return {"counts": True}


def extractor(b: StreamsBuilder) -> Outputs:
    b.stream("in").filter(lambda k, v: v is not None).to(lambda k, v, ctx: "ex-" + v[:1])
    return {"ex-a": False, "ex-b": False, "ex-c": False, "ex-x": False}


class CountingProcessor(Processor[str, str, str, str]):
    """Forwards value + "#" + how many records this key had so far."""

    def init(self, context: Any) -> None:
        self.context = context
        self.store = context.get_state_store("seen")

    def process(self, record: Record[str, str]) -> None:
        n = (self.store.get(record.key) or 0) + 1
        self.store.put(record.key, n)
        self.context.forward(record.with_value(f"{record.value}#{n}"))


class UpperValues(FixedKeyProcessor[str, str, str]):
    def init(self, context: Any) -> None:
        self.context = context

    def process(self, record: FixedKeyRecord[str, str]) -> None:
        self.context.forward(record.with_value(record.value.upper()))


def process(b: StreamsBuilder) -> Outputs:
    b.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("seen"), S, Serdes.Long()))
    (b.stream("in").filter(lambda k, v: k is not None and v is not None).process(CountingProcessor, "seen")
     .process_values(UpperValues).to("processed"))
    return {"processed": False}


def table_chain(b: StreamsBuilder) -> Outputs:
    (b.stream("in").to_table().filter(lambda k, v: len(v) > 1)
     .group_by(lambda k, v: (v[:1], v)).count(Materialized.as_("by-first")).to_stream().to("chain", LONGS))
    return {"chain": True}


CASES: dict[str, tuple[Callable[[StreamsBuilder], Outputs], dict[str, str] | None]] = {
    "stateless": (stateless, None),
    "split_merge": (split_merge, None),
    "word_count": (word_count, None),
    "aggregations": (aggregations, None),
    "tables": (tables, None),
    "to_table": (to_table, None),
    "three_groupings": (three_groupings, None),
    "three_groupings_optimized": (three_groupings, {"topology.optimization": "all"}),
    "repartition": (repartition, None),
    "extractor": (extractor, None),
    "process": (process, None),
    "table_chain": (table_chain, None),
}


def generate(seed: int, n: int = 300, topics: tuple[str, ...] = ("in",)) -> list[dict[str, Any]]:
    """Seeded input: few keys (so aggregates and tables update), null keys, tombstones, rising time."""
    rng = random.Random(seed)
    words = ["a1", "b2", "c3", "ab", "ba", "a", "b11", "c", "bb-a1", "a1-b2-a1", "x9-x9"]
    records, ts = [], 1_000
    for _ in range(n):
        ts += rng.randint(0, 50)
        key = None if rng.random() < 0.05 else f"k{rng.randint(0, 7)}"
        value = None if rng.random() < 0.1 else rng.choice(words)
        records.append({"topic": rng.choice(topics), "key": key, "value": value, "ts": ts})
    return records


def run_ours(name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Build the case, pipe the records, read every output topic (in declared order)."""
    build, props = CASES[name]
    builder = StreamsBuilder()
    outputs = build(builder)
    result: list[dict[str, Any]] = []
    with TopologyTestDriver(builder.build(props), CONFIG) as driver:
        inputs: dict[str, Any] = {}
        for r in records:
            if r["topic"] not in inputs:
                inputs[r["topic"]] = driver.create_input_topic(r["topic"], S, S)
            inputs[r["topic"]].pipe_input(TestRecord(r["key"], r["value"], r["ts"]))
        for topic, longs in outputs.items():
            out = driver.create_output_topic(topic, S, Serdes.Long() if longs else S)
            for rec in out.read_records_to_list():
                result.append({"topic": topic, "key": rec.key, "value": rec.value, "ts": rec.timestamp})
    return result
