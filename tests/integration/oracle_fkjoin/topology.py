"""FkJoins.java written with our DSL, and the seeded input both drivers get."""
from __future__ import annotations

import random
from typing import Any

from pystreams import StreamsBuilder
from pystreams.dsl.joins import TableJoined
from pystreams.dsl.options import Consumed, Materialized, Produced
from pystreams.serdes import Serdes

OUTPUTS = ["out-fk-inner", "out-fk-left", "out-fk-named"]


def foreign_key(value: int) -> str | None:
    return None if value < 0 else f"f{value % 5}"


def joiner(left: Any, right: Any) -> str:
    return f"{'null' if left is None else left}|{'null' if right is None else right}"


def fk_joins_dsl() -> StreamsBuilder:
    s, lng = Serdes.String(), Serdes.Long()
    builder = StreamsBuilder()
    left = builder.table("fk-left", Consumed.with_(s, lng))
    right = builder.table("fk-right", Consumed.with_(s, lng))
    produced = Produced.with_(s, s)
    left.join(right, foreign_key, joiner).to_stream().to("out-fk-inner", produced)
    left.left_join(right, foreign_key, joiner).to_stream().to("out-fk-left", produced)
    left.join(right, foreign_key, joiner, TableJoined.as_("fkn"),
              Materialized.as_("fk-store").with_key_serde(s).with_value_serde(s)) \
        .to_stream().to("out-fk-named", produced)
    return builder


def fk_records(seed: int, n: int) -> list[dict[str, Any]]:
    """Left rows a0..d3 whose values pick foreign keys f0..f4 (negative = no foreign key) and change them;
    right rows f0..f5; tombstones on both sides; timestamps mostly increasing, some out of order."""
    rnd = random.Random(seed)
    ts = 0
    out: list[dict[str, Any]] = []
    for _ in range(n):
        ts += rnd.randrange(0, 10)
        topic = "fk-left" if rnd.random() < 0.6 else "fk-right"
        if topic == "fk-left":
            key = f"{rnd.choice('abcd')}{rnd.randrange(4)}"
            value = None if rnd.random() < 0.12 else rnd.randrange(-6, 40)
        else:
            key = f"f{rnd.randrange(6)}"
            value = None if rnd.random() < 0.15 else rnd.randrange(0, 1000)
        if rnd.random() < 0.02:
            key = None
        late = rnd.randrange(0, 50) if rnd.random() < 0.2 else 0
        out.append({"topic": topic, "key": key, "value": value, "timestamp": max(0, ts - late), "headers": {}})
    return out


CHAINED_OUTPUTS = ["out-fkc-left", "out-fkc-chain", "out-fkc-filtered"]


def _show(value: Any) -> str:
    return "null" if value is None else str(value)


def fk_joins_chained_dsl() -> StreamsBuilder:
    """FkJoinsChained.java: (key, value) extractor, a join of a join result, a join of a filtered table."""
    s, lng = Serdes.String(), Serdes.Long()
    builder = StreamsBuilder()
    left = builder.table("fk-left", Consumed.with_(s, lng))
    right = builder.table("fk-right", Consumed.with_(s, lng))
    produced = Produced.with_(s, s)
    joined = left.left_join(right, lambda k, v: None if k.startswith("a") or v < 0 else f"f{v % 5}",
                            lambda l, r: f"{_show(l)}|{_show(r)}", Materialized.with_(s, s))
    joined.to_stream().to("out-fkc-left", produced)
    joined.join(right, lambda v: f"f{len(v) % 5}", lambda l, r: f"{_show(l)}+{_show(r)}", TableJoined.as_("chain")) \
        .to_stream().to("out-fkc-chain", produced)
    left.filter(lambda k, v: v % 3 != 0) \
        .left_join(right, lambda v: f"f{abs(v) % 6}", lambda l, r: f"{_show(l)}/{_show(r)}",
                   Materialized.as_("fkc-store").with_key_serde(s).with_value_serde(s)) \
        .to_stream().to("out-fkc-filtered", produced)
    return builder
