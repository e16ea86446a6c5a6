"""Every stateful DSL method, built with S1's StreamsBuilder and run through the TopologyTestDriver.

Expected outputs are Kafka Streams' documented semantics on small inputs (as in Kafka's own
KStreamAggregationIntegrationTest / KTableFilterTest cases), checked record by record.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

S, L = Serdes.String(), Serdes.Long()


def run(build: Callable[[StreamsBuilder], None], records: list[tuple[Any, Any, int]], out_value_serde: Any = L,
        in_value_serde: Any = L, store: str | None = None) -> tuple[list[tuple[Any, Any, int]], dict[Any, Any]]:
    builder = StreamsBuilder()
    build(builder)
    with TopologyTestDriver(builder.build(), {"application.id": "dsl-stateful"}) as driver:
        source = driver.create_input_topic("in", S, in_value_serde)
        out = driver.create_output_topic("out", S, out_value_serde)
        for key, value, ts in records:
            source.pipe_input(key, value, ts)
        got = [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
        contents = {}
        if store is not None:
            contents = {kv.key: kv.value for kv in driver.get_key_value_store(store).all()}
        return got, contents


def test_group_by_key_count_skips_nulls_and_is_queryable() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.stream("in", Consumed(key_serde=S, value_serde=S)).group_by_key()
         .count(Materialized.as_("counts")).to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, store = run(build, [("a", "x", 1), (None, "x", 2), ("a", None, 3), ("b", "y", 4), ("a", "z", 5)],
                     in_value_serde=S, store="counts")
    assert got == [("a", 1, 1), ("b", 1, 4), ("a", 2, 5)]
    assert store == {"a": 2, "b": 1}


def test_group_by_repartitions_then_reduces() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.stream("in", Consumed(key_serde=S, value_serde=L))
         .group_by(lambda k, v: k[0], Grouped(key_serde=S, value_serde=L))
         .reduce(lambda agg, v: agg + v).to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, _ = run(build, [("ax", 1, 10), ("ay", 2, 5), ("bz", 7, 11), ("az", 3, 12)])
    assert got == [("a", 1, 10), ("a", 3, 10), ("b", 7, 11), ("a", 6, 12)]


def test_aggregate_with_initializer_and_materialized_serdes() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.stream("in", Consumed(key_serde=S, value_serde=L)).group_by_key()
         .aggregate(lambda: "", lambda k, v, agg: agg + str(v), Materialized.as_("agg").with_value_serde(S))
         .to_stream().to("out", Produced(key_serde=S, value_serde=S)))

    got, store = run(build, [("k", 1, 1), ("k", 2, 2), ("j", 3, 3)], out_value_serde=S, store="agg")
    assert got == [("k", "1", 1), ("k", "12", 2), ("j", "3", 3)]
    assert store == {"k": "12", "j": "3"}


def test_table_filter_on_unmaterialized_source_sends_tombstones_for_filtered_records() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.table("in", Consumed(key_serde=S, value_serde=L)).filter(lambda k, v: v > 0)
         .to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, _ = run(build, [("a", 1, 1), ("a", -1, 2), ("b", -5, 3), ("a", None, 4)])
    assert got == [("a", 1, 1), ("a", None, 2), ("b", None, 3), ("a", None, 4)]


def test_table_filter_not_on_materialized_source_skips_needless_tombstones() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.table("in", Consumed(key_serde=S, value_serde=L), Materialized.as_("src"))
         .filter_not(lambda k, v: v > 0).to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, _ = run(build, [("a", -1, 1), ("a", 1, 2), ("b", 5, 3), ("a", None, 4)])
    assert got == [("a", -1, 1), ("a", None, 2)]


def test_materialized_filter_and_map_values_are_queryable() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.table("in", Consumed(key_serde=S, value_serde=L))
         .filter(lambda k, v: v % 2 == 0, Materialized.as_("evens"))
         .map_values(lambda v: v * 10, Materialized.as_("tens").with_value_serde(L))
         .to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, store = run(build, [("a", 2, 1), ("b", 3, 2), ("a", 4, 3), ("a", 5, 4), ("c", 6, 5)], store="tens")
    assert got == [("a", 20, 1), ("a", 40, 3), ("a", None, 4), ("c", 60, 5)]
    assert store == {"c": 60}


def test_to_table_upserts_and_deletes() -> None:
    def build(b: StreamsBuilder) -> None:
        (b.stream("in", Consumed(key_serde=S, value_serde=L)).to_table(Materialized.as_("t"))
         .to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, store = run(build, [("a", 1, 1), ("a", 2, 2), ("b", 3, 3), ("a", None, 4)], store="t")
    assert got == [("a", 1, 1), ("a", 2, 2), ("b", 3, 3), ("a", None, 4)]
    assert store == {"b": 3}


@pytest.mark.parametrize("caching", [True, False])
def test_table_group_by_aggregate_moves_values_between_groups(caching: bool) -> None:
    def build(b: StreamsBuilder) -> None:
        mat = Materialized.as_("sums").with_value_serde(L)
        if not caching:
            mat = mat.with_caching_disabled()
        (b.table("in", Consumed(key_serde=S, value_serde=L))
         .group_by(lambda k, v: ("even" if v % 2 == 0 else "odd", v), Grouped(key_serde=S, value_serde=L))
         .aggregate(lambda: 0, lambda k, v, agg: agg + v, lambda k, v, agg: agg - v, mat)
         .to_stream().to("out", Produced(key_serde=S, value_serde=L)))

    got, store = run(build, [("a", 1, 1), ("b", 2, 2), ("a", 3, 3), ("a", 4, 4), ("b", None, 5)], store="sums")
    assert got == [("odd", 1, 1), ("even", 2, 2), ("odd", 3, 3),  # a: 1 -> 3 stays odd: one Change
                   ("odd", 0, 4), ("even", 6, 4),                    # a: 3 -> 4 moves: subtract, then add
                   ("even", 4, 5)]
    assert store == {"odd": 0, "even": 4}


def test_table_group_by_count_and_reduce() -> None:
    def build(b: StreamsBuilder) -> None:
        grouped = (b.table("in", Consumed(key_serde=S, value_serde=L))
                   .group_by(lambda k, v: (k[0], v), Grouped(key_serde=S, value_serde=L)))
        grouped.count(Materialized.as_("n")).to_stream().to("out", Produced(key_serde=S, value_serde=L))
        grouped.reduce(lambda a, v: a + v, lambda a, v: a - v, Materialized.as_("r")).to_stream().to(
            "out-r", Produced(key_serde=S, value_serde=L))

    got, counts = run(build, [("a1", 5, 1), ("a2", 7, 2), ("a1", None, 3), ("b1", 1, 4)], store="n")
    assert got == [("a", 1, 1), ("a", 2, 2), ("a", 1, 3), ("b", 1, 4)]
    assert counts == {"a": 1, "b": 1}


def test_skipped_records_count_in_the_dropped_records_metric() -> None:
    builder = StreamsBuilder()
    (builder.stream("in", Consumed(key_serde=S, value_serde=S)).group_by_key().count()
     .to_stream().to("out", Produced(key_serde=S, value_serde=L)))
    with TopologyTestDriver(builder.build(), {"application.id": "dsl-stateful"}) as driver:
        source = driver.create_input_topic("in", S, S)
        before = driver.metrics()["dropped-records-total"]
        source.pipe_input(None, "x", 1)
        source.pipe_input("a", None, 2)
        source.pipe_input("a", "x", 3)
        assert driver.metrics()["dropped-records-total"] - before == 2
