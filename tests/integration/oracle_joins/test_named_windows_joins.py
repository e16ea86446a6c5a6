"""User-given names (StreamJoined name and store name, Named windowed count with a named store, named suppression,
named stream-table and table-table joins) and a stream-table left join after select_key (repartition topic):
describe() equal to Java's, outputs equal on seeded inputs."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import (BufferConfig, Joined, JoinWindows, StreamJoined, StreamsBuilder, Suppressed, TimeWindows,
                       WindowedSerdes)
from pystreams.dsl.options import Consumed, Grouped, Materialized, Named, Produced
from pystreams.serdes import Serdes
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python, random_records

pytestmark = [pytest.mark.integration, pytest.mark.reference]

OUTPUTS = ["n-inner", "n-left", "n-outer", "n-final", "n-st", "n-rekeyed", "n-tt"]


def _j(left: Any, right: Any) -> str:
    return f"{'null' if left is None else left}|{'null' if right is None else right}"


def named_dsl() -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    consumed = Consumed.with_(s, lng)
    left, right = b.stream("nl", consumed), b.stream("nr", consumed)
    table, table2 = b.table("nt", consumed), b.table("nt2", consumed)
    produced = Produced.with_(s, s)
    sj = StreamJoined.with_(s, lng, lng)
    window = JoinWindows.of_time_difference_with_no_grace(20)
    left.join(right, _j, window, sj.with_name("sj").with_store_name("sjstore")).to("n-inner", produced)
    left.left_join(right, _j, window, sj.with_name("lj")).to("n-left", produced)
    left.outer_join(right, _j, window, sj.with_store_name("oj")).to("n-outer", produced)
    left.group_by_key(Grouped.with_(s, lng)).windowed_by(TimeWindows.of_size_and_grace(100, 10)) \
        .count(Named.as_("wcount"), Materialized.as_("wstore").with_key_serde(s).with_value_serde(lng)) \
        .suppress(Suppressed.until_window_closes(BufferConfig.unbounded()).with_name("final")).to_stream() \
        .to("n-final", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, 100), lng))
    joined = Joined.with_(s, lng, lng)
    left.join(table, _j, joined.with_name("stj")).to("n-st", produced)
    left.select_key(lambda k, v: None if v is None else f"a{v % 3}").left_join(table, _j, joined) \
        .to("n-rekeyed", produced)
    table.join(table2, _j, Named.as_("ttj"), Materialized.as_("ttstore").with_key_serde(s).with_value_serde(s)) \
        .to_stream().to("n-tt", produced)
    return b


def test_describe_equals_java(java_streams: Any) -> None:
    assert str(named_dsl().build().describe()) == java_streams.describe("namedwindowsjoins")


def test_outputs_equal_java(java_streams: Any, tmp_path: Any) -> None:
    records = random_records(71, 1000, ("nl", "nr", "nt", "nt2"), keys="ab")
    config = {"__emit.interval.ms.kstreams.outer.join.spurious.results.fix__": 0}
    java = drive_java(java_streams, "namedwindowsjoins", records, config)
    for topic in OUTPUTS:
        assert any(r["topic"] == topic for r in java), topic
    s, lng = Serdes.String(), Serdes.Long()
    ws = WindowedSerdes.time_windowed_serde_from(s, 100)
    ours = drive_python(named_dsl().build(), records, {t: (s, lng) for t in ("nl", "nr", "nt", "nt2")},
                        [(t, ws if t == "n-final" else s, lng if t == "n-final" else s) for t in OUTPUTS],
                        {**config, "default.dsl.store": "in_memory", "state.dir": str(tmp_path)})
    assert_same(ours, java)
