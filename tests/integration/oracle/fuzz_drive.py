"""Random DSL programs run on our TopologyTestDriver and on Kafka's (java/S1FuzzDriveOracle.java).

Functions are fixed and language-neutral (same result in Java and Python for the generated data):
filter/filter_not: v is not null and contains "1"; map_values: upper-case; flat_map_values: split on "-";
select_key: first character of v; map: swap key and value; group_by: key = value; reduce: a + "|" + v;
table filter: contains "1"; table map_values: upper-case; table group_by: (first char of v, v).
"""
from __future__ import annotations

import random
from typing import Any

from pystreams import Produced, Serdes, StreamsBuilder
from pystreams.errors import PystreamsError
from pystreams.testing import TestRecord, TopologyTestDriver

S = Serdes.String()
CONFIG = {"application.id": "s1-fuzz", "default.key.serde": "string", "default.value.serde": "string"}
SOURCES = ("in-a", "in-b", "in-t")


def generate_program(seed: int) -> dict[str, Any]:
    """A random program over string streams/tables; count results (longs) only flow to sinks."""
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    kinds: list[str | None] = []  # "s" string stream, "t" string table, "ls"/"lt" long stream/table, "gs", "gt"
    sinks = 0

    def add(op: dict[str, Any], kind: str | None) -> None:
        ops.append(op)
        kinds.append(kind)

    add({"op": "stream", "topic": "in-a"}, "s")
    if rng.random() < 0.5:
        add({"op": "stream", "topic": "in-b"}, "s")
    if rng.random() < 0.5:
        add({"op": "table", "topic": "in-t"}, "t")
    for _ in range(rng.randint(2, 10)):
        pick = lambda *ks: [i for i, k in enumerate(kinds) if k in ks]  # noqa: E731
        grouped, tables, streams = pick("gs", "gt"), pick("t", "lt"), pick("s")
        roll = rng.random()
        if grouped and roll < 0.3:
            src = rng.choice(grouped)
            op = "reduce" if kinds[src] == "gs" and rng.random() < 0.4 else "count"
            if rng.random() < 0.5:
                kinds[src] = None
            add({"op": op, "src": src}, "t" if op == "reduce" else "lt")
        elif tables and roll < 0.5:
            src = rng.choice(tables)
            if kinds[src] == "lt" or rng.random() < 0.35:
                add({"op": "toStream", "src": src}, "ls" if kinds[src] == "lt" else "s")
            else:
                name = rng.choice(["tfilter", "tmapValues", "tgroupBy"])
                add({"op": name, "src": src}, "gt" if name == "tgroupBy" else "t")
        elif streams:
            src = rng.choice(streams)
            name = rng.choice(["filter", "filterNot", "mapValues", "flatMapValues", "selectKey", "map", "merge",
                               "repartition", "toTable", "groupByKey", "groupBy", "to"])
            op: dict[str, Any] = {"op": name, "src": src}
            if name == "merge":
                op["other"] = rng.choice(streams)
            if name == "to":
                sinks += 1
                op.update(topic=f"out-{sinks}", long=False)
            add(op, {"to": None, "toTable": "t", "groupByKey": "gs", "groupBy": "gs"}.get(name, "s"))
    for i, kind in enumerate(list(kinds)):  # every open end gets a sink, so everything is observed
        if kind in ("s", "ls"):
            sinks += 1
            add({"op": "to", "src": i, "topic": f"out-{sinks}", "long": kind == "ls"}, None)
        elif kind in ("t", "lt"):
            add({"op": "toStream", "src": i}, None)
            sinks += 1
            add({"op": "to", "src": len(kinds) - 1, "topic": f"out-{sinks}", "long": kind == "lt"}, None)
    program = {"name": f"run-{seed}", "optimize": rng.random() < 0.5, "ops": ops,
               "sources": sorted({op["topic"] for op in ops if op["op"] in ("stream", "table")})}
    if rng.random() < 0.3:
        program["cache_bytes"] = 0  # record caches off: every update is forwarded
    return program


def generate_input(seed: int, n: int = 150) -> list[dict[str, Any]]:
    """Records on every source topic: few keys, null keys, null values, rising timestamps."""
    rng = random.Random(seed)
    words = ["a1", "b2", "c3", "ab", "ba", "a", "b11", "c", "bb-a1", "a1-b2-a1", "x9-x9"]
    out, ts = [], 1000
    for _ in range(n):
        ts += rng.randint(0, 20)
        out.append({"topic": rng.choice(SOURCES), "key": None if rng.random() < 0.05 else f"k{rng.randint(0, 5)}",
                    "value": None if rng.random() < 0.1 else rng.choice(words), "ts": ts})
    return out


def _apply(b: StreamsBuilder, h: list[Any], op: dict[str, Any], outputs: dict[str, bool]) -> Any:
    kind = op["op"]
    src = h[op["src"]] if "src" in op else None
    if kind == "stream":
        return b.stream(op["topic"])
    if kind == "table":
        return b.table(op["topic"])
    simple = {
        "filter": lambda s: s.filter(lambda k, v: v is not None and "1" in v),
        "filterNot": lambda s: s.filter_not(lambda k, v: v is not None and "1" in v),
        "mapValues": lambda s: s.map_values(lambda v: None if v is None else v.upper()),
        "flatMapValues": lambda s: s.flat_map_values(lambda v: [] if v is None else v.split("-")),
        "selectKey": lambda s: s.select_key(lambda k, v: None if v is None else v[:1]),
        "map": lambda s: s.map(lambda k, v: (v, k)),
        "merge": lambda s: s.merge(h[op["other"]]),
        "repartition": lambda s: s.repartition(),
        "toTable": lambda s: s.to_table(),
        "groupByKey": lambda s: s.group_by_key(),
        "groupBy": lambda s: s.group_by(lambda k, v: v),
        "count": lambda g: g.count(),
        "reduce": lambda g: g.reduce(lambda a, v: a + "|" + v),
        "tfilter": lambda t: t.filter(lambda k, v: "1" in v),
        "tmapValues": lambda t: t.map_values(lambda v: v.upper()),
        "tgroupBy": lambda t: t.group_by(lambda k, v: (v[:1], v)),
        "toStream": lambda t: t.to_stream(),
    }
    if kind == "to":
        outputs[op["topic"]] = op["long"]
        src.to(op["topic"], Produced(S, Serdes.Long()) if op["long"] else None)
        return None
    return simple[kind](src)


def run_ours(program: dict[str, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The program on our TopologyTestDriver; outputs topic by topic in program order."""
    b = StreamsBuilder()
    handles: list[Any] = []
    outputs: dict[str, bool] = {}
    for op in program["ops"]:
        handles.append(_apply(b, handles, op, outputs))
    props = {"topology.optimization": "all"} if program["optimize"] else None
    config = dict(CONFIG)
    if "cache_bytes" in program:
        config["statestore.cache.max.bytes"] = program["cache_bytes"]
    result: list[dict[str, Any]] = []
    try:
        topology = b.build(props)
    except PystreamsError:  # refused, as Kafka refuses it
        return [{"error": True}]
    with TopologyTestDriver(topology, config) as driver:
        inputs: dict[str, Any] = {}
        for r in records:
            if r["topic"] not in program["sources"]:
                continue
            if r["topic"] not in inputs:
                inputs[r["topic"]] = driver.create_input_topic(r["topic"], S, S)
            inputs[r["topic"]].pipe_input(TestRecord(r["key"], r["value"], r["ts"]))
        for topic, longs in outputs.items():
            out = driver.create_output_topic(topic, S, Serdes.Long() if longs else S)
            result.extend({"topic": topic, "key": rec.key, "value": rec.value, "ts": rec.timestamp}
                          for rec in out.read_records_to_list())
    return result
