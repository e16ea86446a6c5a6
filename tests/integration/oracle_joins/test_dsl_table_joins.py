"""KTable-KTable joins (inner, left, outer materialized, and a join of a join result through its value getter):
describe() equal to Java's and the same output records on seeded inputs with tombstones."""
from __future__ import annotations

from typing import Any

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.dsl.options import Consumed, Materialized, Produced
from pystreams.serdes import Serdes
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python, random_records

pytestmark = [pytest.mark.integration, pytest.mark.reference]

OUTPUTS = ["out-tt-inner", "out-tt-left", "out-tt-outer", "out-tt-chain"]


def _j(sep: str) -> Any:
    return lambda left, right: f"{'null' if left is None else left}{sep}{'null' if right is None else right}"


def table_joins_dsl() -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    builder = StreamsBuilder()
    t1 = builder.table("t1", Consumed.with_(s, lng))
    t2 = builder.table("t2", Consumed.with_(s, lng))
    produced = Produced.with_(s, s)
    inner = t1.join(t2, _j("|"))
    inner.to_stream().to("out-tt-inner", produced)
    t1.left_join(t2, _j("|")).to_stream().to("out-tt-left", produced)
    t1.outer_join(t2, _j("|"), materialized=Materialized.as_("outer-store").with_key_serde(s)
                  .with_value_serde(s)).to_stream().to("out-tt-outer", produced)
    inner.left_join(t2, _j("+")).to_stream().to("out-tt-chain", produced)
    return builder


def test_describe_equals_java(java_streams: Any) -> None:
    assert str(table_joins_dsl().build().describe()) == java_streams.describe("tablejoins")


@pytest.mark.parametrize("caching", [True, False])
def test_table_joins_equal_java(java_streams: Any, tmp_path: Any, caching: bool) -> None:
    records = random_records(41, 1000, ("t1", "t2"), keys="abc", null_value=0.15)
    config = {"default.dsl.store": "in_memory", "state.dir": str(tmp_path)}
    if not caching:
        config["statestore.cache.max.bytes"] = 0
    java = drive_java(java_streams, "tablejoins", records, {k: v for k, v in config.items() if k != "state.dir"})
    for topic in OUTPUTS:
        assert any(r["topic"] == topic for r in java)
    s, lng = Serdes.String(), Serdes.Long()
    ours = drive_python(table_joins_dsl().build(config), records, {t: (s, lng) for t in ("t1", "t2")},
                        [(t, s, s) for t in OUTPUTS], config)
    assert_same(ours, java)
