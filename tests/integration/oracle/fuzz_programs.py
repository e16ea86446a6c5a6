"""Random DSL programs (seeded) as JSON op lists, and their interpretation with our DSL.

java/S1FuzzOracle.java interprets the same JSON with Kafka Streams; describe() texts must match."""
from __future__ import annotations

import random
import re
from typing import Any

from pystreams import Branched, Consumed, Grouped, Materialized, Named, Printed, Repartitioned, StreamsBuilder
from pystreams.dsl import KGroupedStream, KGroupedTable, KStream, KTable
from pystreams.errors import PystreamsError
from pystreams.processor import FixedKeyProcessor, FixedKeyRecord, Processor, Record


class Noop(Processor[Any, Any, Any, Any]):
    def process(self, record: Record[Any, Any]) -> None:
        pass


class NoopValues(FixedKeyProcessor[Any, Any, Any]):
    def process(self, record: FixedKeyRecord[Any, Any]) -> None:
        pass

STREAM_OPS = ["filter", "filterNot", "mapValues", "flatMapValues", "selectKey", "map", "peek", "merge",
              "repartition", "to", "toTable", "groupByKey", "groupBy", "split", "flatMap", "foreach", "process",
              "processValues", "print", "repartitionN", "splitNamed"]
TABLE_OPS = ["tfilter", "tmapValues", "toStream", "tgroupBy", "toStreamMapped"]


def generate_program(seed: int) -> dict[str, Any]:
    """One random program: sources, a chain of operations on random earlier handles, some sinks."""
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    kinds: list[str] = []  # kind of each handle: s (stream), t (table), gs, gt, None (terminal)
    counter = 0

    def fresh(prefix: str) -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}{counter}"

    def add(op: dict[str, Any], kind: str | None, n: int = 1) -> None:
        ops.append(op)
        kinds.extend([kind] * n)

    def maybe_name(op: dict[str, Any], p: float = 0.2) -> dict[str, Any]:
        if rng.random() < p:
            op["name"] = fresh("n-")
        return op

    def maybe_store(op: dict[str, Any], p: float = 0.3) -> dict[str, Any]:
        roll = rng.random()
        if roll < p:
            op["store"] = fresh("store-")
        elif roll < p + 0.15:
            op["store"] = ""  # Materialized without a name: Kafka burns a store name
        return op

    topics: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if topics and rng.random() < 0.15:
            add({"op": "stream", "topics": [rng.choice(topics)]}, "s")  # duplicate source: merged
        else:
            topics.append(fresh("topic-"))
            add({"op": "stream", "topics": [topics[-1]]}, "s")
    if rng.random() < 0.15:
        add({"op": "pattern", "pattern": fresh("pat-") + "-.*"}, "s")
    if rng.random() < 0.15:
        topics.extend([fresh("multi-"), fresh("multi-")])
        add({"op": "stream", "topics": topics[-2:]}, "s")
    if rng.random() < 0.4:
        add(maybe_store({"op": "table", "topic": fresh("table-")}), "t")
    if rng.random() < 0.2:
        add(maybe_store({"op": "tableNamed", "topic": fresh("table-"), "source": fresh("src-")}), "t")
    for _ in range(rng.randint(3, 14)):
        streams = [i for i, k in enumerate(kinds) if k == "s"]
        tables = [i for i, k in enumerate(kinds) if k == "t"]
        grouped = [i for i, k in enumerate(kinds) if k in ("gs", "gt")]
        choice = rng.random()
        if grouped and choice < 0.25:
            src = rng.choice(grouped)
            op = maybe_name(maybe_store({"op": rng.choice(["count", "reduce", "aggregate"]), "src": src}))
            if "name" in op and "store" not in op and (
                    op["op"] == "reduce" or (op["op"] == "aggregate" and kinds[src] == "gs")):
                del op["name"]  # Kafka has no reduce(..., Named) / stream aggregate(..., Named) overload
            if rng.random() < 0.5:
                kinds[src] = None  # else a later aggregation reuses the grouping (and a named repartition)
            add(op, "t")
        elif tables and choice < 0.45:
            src = rng.choice(tables)
            name = rng.choice(TABLE_OPS)
            op = maybe_name({"op": name, "src": src})
            if name in ("tfilter", "tmapValues"):
                maybe_store(op)
            add(op, {"toStream": "s", "toStreamMapped": "s", "tgroupBy": "gt"}.get(name, "t"))
        elif streams:
            src = rng.choice(streams)
            name = rng.choice(STREAM_OPS)
            op = {"op": name, "src": src}
            if name == "merge":
                op["other"] = rng.choice(streams)
                maybe_name(op)
                add(op, "s")
            elif name == "to":
                op["topic"] = fresh("out-")
                maybe_name(op)
                add(op, None)
            elif name in ("foreach", "print"):
                add(maybe_name(op), None)
            elif name == "repartitionN":
                op["partitions"] = rng.randint(1, 4)
                add(op, "s")
            elif name == "splitNamed":
                op["branchNames"] = [fresh("br") for _ in range(rng.randint(1, 3))]
                op["default"] = rng.random() < 0.5
                maybe_name(op)
                add(op, "s", len(op["branchNames"]) + (1 if op["default"] else 0))
            elif name == "split":
                op["branches"] = rng.randint(1, 3)
                op["default"] = rng.random() < 0.5
                maybe_name(op)
                add(op, "s", op["branches"] + (1 if op["default"] else 0))
            elif name == "toTable":
                add(maybe_name(maybe_store(op)), "t")
            elif name in ("groupBy", "groupByKey"):
                add(maybe_name(op), "gs")
            else:
                add(maybe_name(op), "s")
    return {"name": f"program-{seed}", "optimize": rng.random() < 0.5, "ops": ops}


def _apply(b: StreamsBuilder, h: list[Any], op: dict[str, Any]) -> Any:
    kind = op["op"]
    named = Named(op["name"]) if "name" in op else None
    mat = (Materialized.as_(op["store"]) if op["store"] else Materialized()) if "store" in op else None
    src = h[op["src"]] if "src" in op else None
    p = lambda k, v: True  # noqa: E731
    if kind == "stream":
        return b.stream(op["topics"][0] if len(op["topics"]) == 1 else op["topics"])
    if kind == "pattern":
        return b.stream(re.compile(op["pattern"]))
    if kind == "table":
        return b.table(op["topic"], materialized=mat) if mat else b.table(op["topic"])
    if kind == "tableNamed":
        return b.table(op["topic"], Consumed.as_(op["source"]), mat)
    if isinstance(src, KStream):
        if kind == "filter":
            return src.filter(p, named)
        if kind == "filterNot":
            return src.filter_not(p, named)
        if kind == "mapValues":
            return src.map_values(lambda v: v, named)
        if kind == "flatMapValues":
            return src.flat_map_values(lambda v: [v], named)
        if kind == "selectKey":
            return src.select_key(lambda k, v: v, named)
        if kind == "map":
            return src.map(lambda k, v: (v, k), named)
        if kind == "peek":
            return src.peek(lambda k, v: None, named)
        if kind == "flatMap":
            return src.flat_map(lambda k, v: [(v, k)], named)
        if kind == "foreach":
            src.foreach(lambda k, v: None, named)
            return None
        if kind == "print":
            src.print(Printed(name=op["name"]) if "name" in op else Printed())
            return None
        if kind == "repartitionN":
            return src.repartition(Repartitioned.number_of_partitions(op["partitions"]))
        if kind == "splitNamed":
            br = src.split(named)
            for branch_name in op["branchNames"]:
                br = br.branch(p, Branched.as_(branch_name))
            out = br.default_branch(Branched.as_("dflt")) if op["default"] else br.no_default_branch()
            return [out[k] for k in sorted(out)]
        if kind == "process":
            return src.process(Noop, named=named)
        if kind == "processValues":
            return src.process_values(NoopValues, named=named)
        if kind == "merge":
            return src.merge(h[op["other"]], named)
        if kind == "repartition":
            return src.repartition(Repartitioned.as_(op["name"]) if "name" in op else None)
        if kind == "to":
            src.to(op["topic"], None if named is None else __import__("pystreams").Produced.as_(op["name"]))
            return None
        if kind == "toTable":
            return src.to_table(named, mat)
        if kind == "groupByKey":
            return src.group_by_key(Grouped.as_(op["name"]) if "name" in op else None)
        if kind == "groupBy":
            return src.group_by(lambda k, v: v, Grouped.as_(op["name"]) if "name" in op else None)
        if kind == "split":
            br = src.split(named)
            for _ in range(op["branches"]):
                br = br.branch(p)
            out = br.default_branch() if op["default"] else br.no_default_branch()
            return [out[k] for k in sorted(out)]
    if isinstance(src, (KGroupedStream, KGroupedTable)):
        if kind == "count":
            return src.count(mat, named)
        if kind == "aggregate":
            if isinstance(src, KGroupedStream):
                return src.aggregate(lambda: 0, lambda k, v, a: a, mat, named)
            return src.aggregate(lambda: 0, lambda k, v, a: a, lambda k, v, a: a, mat, named)
        if isinstance(src, KGroupedStream):
            return src.reduce(lambda a, v: a, mat, named)
        return src.reduce(lambda a, v: a, lambda a, v: a, mat, named)
    if isinstance(src, KTable):
        if kind == "tfilter":
            return src.filter(p, named, mat)
        if kind == "tmapValues":
            return src.map_values(lambda v: v, named, mat)
        if kind == "toStream":
            return src.to_stream(named=named)
        if kind == "toStreamMapped":
            return src.to_stream(lambda k, v: v, named)
        if kind == "tgroupBy":
            return src.group_by(lambda k, v: (v, k), Grouped.as_(op["name"]) if "name" in op else None)
    raise ValueError(f"cannot apply {op} to {src!r}")


def describe_program(program: dict[str, Any]) -> str:
    """Our describe() text, or "ERROR" when the program is refused (Kafka prints ERROR <class>)."""
    try:
        b = StreamsBuilder()
        handles: list[Any] = []
        for op in program["ops"]:
            result = _apply(b, handles, op)
            if isinstance(result, list):
                handles.extend(result)
            else:
                handles.append(result)
        props = {"topology.optimization": "all"} if program["optimize"] else None
        return str(b.build(props).describe())
    except PystreamsError:
        return "ERROR\n"
