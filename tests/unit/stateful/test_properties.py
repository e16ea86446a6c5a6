"""hypothesis: the aggregation processors equal a plain-Python model on random inputs.

Stream side: count/reduce/aggregate over random (key, value) records incl. None keys/values.
Table side: a source table with random upserts and tombstones, group_by to a new key (through the
repartition topic's ChangedSerde bytes), count/reduce/aggregate with subtractors; with and without caching.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystreams.compiler.processors.stateful import (
    ChangedSerde,
    KStreamAggregate,
    KStreamReduce,
    KTableAggregate,
    KTableHandle,
    KTableReduce,
    KTableRepartitionMap,
    KTableSource,
    count_aggregator,
    count_initializer,
    count_subtractor,
)
from pystreams.processor import Record
from pystreams.serdes import Serdes
from tests.unit.stateful.harness import DictTimestampedStore, FakeContext, started

pytestmark = pytest.mark.unit

keys = st.one_of(st.none(), st.sampled_from("abcde"))
values = st.one_of(st.none(), st.integers(-50, 50))
stream_records = st.lists(st.tuples(keys, values, st.integers(0, 1000)), max_size=60)


def _run_stream(supplier: Any, records: list[tuple[Any, Any, int]]) -> dict[Any, Any]:
    store = DictTimestampedStore(supplier.store_name)
    ctx = FakeContext(store)
    p = started(supplier, ctx)
    last: dict[Any, Any] = {}
    for key, value, ts in records:
        p.process(Record(key, value, ts))
        for k, new, _old, _ts in ctx.take():
            last[k] = new
    assert last == store.plain()  # the forwarded stream ends in the store's state
    return store.plain()


@given(stream_records)
def test_stream_count_reduce_aggregate_equal_the_model(records: list[tuple[Any, Any, int]]) -> None:
    valid = [(k, v) for k, v, _ in records if k is not None and v is not None]
    counts: dict[Any, int] = {}
    sums: dict[Any, int] = {}
    lists: dict[Any, list[int]] = {}
    for k, v in valid:
        counts[k] = counts.get(k, 0) + 1
        sums[k] = sums[k] + v if k in sums else v
        lists.setdefault(k, []).append(v)
    assert _run_stream(KStreamAggregate("C", count_initializer, count_aggregator), records) == counts
    assert _run_stream(KStreamReduce("R", lambda a, v: a + v), records) == sums
    assert _run_stream(KStreamAggregate("A", lambda: [], lambda k, v, a: a + [v]), records) == lists


table_ops = st.lists(st.tuples(st.sampled_from(["r1", "r2", "r3", "r4", "r5", "r6"]),
                               st.one_of(st.none(), st.integers(0, 30)), st.integers(0, 1000)), max_size=60)


class _GroupByPipeline:
    """source(materialized) -> group_by (value % 3) -> repartition bytes -> table aggregate."""

    def __init__(self, aggregate_supplier: Any, caching: bool) -> None:
        src = KTableHandle(KTableSource("S", "S"), "src")
        select = KTableRepartitionMap(src, lambda k, v: (f"g{v % 3}", v))
        src.enable_sending_old_values(True)
        self.src_store = DictTimestampedStore("S", caching=caching)
        self.src_ctx = FakeContext(self.src_store)
        self.source = started(src.supplier, self.src_ctx)
        self.select_ctx = FakeContext()
        self.select = started(select, self.select_ctx)
        self.agg_store = DictTimestampedStore(aggregate_supplier.store_name, caching=caching)
        self.agg_ctx = FakeContext(self.agg_store)
        self.aggregate = started(aggregate_supplier, self.agg_ctx)
        self.serde = ChangedSerde(Serdes.Integer())
        self.caching = caching

    def pipe(self, key: str, value: int | None, ts: int) -> None:
        self.source.process(Record(key, value, ts))
        if self.caching:  # TopologyTestDriver commits after every record: caches flush in topological order
            self.src_store.flush(timestamp_of_deletes=ts)
        for table_change in list(self.src_ctx.forwarded):
            self.select.process(table_change)
        self.src_ctx.forwarded.clear()
        for rekeyed in list(self.select_ctx.forwarded):
            wire = self.serde.serialize("rep", rekeyed.value)
            self.aggregate.process(rekeyed.with_value(self.serde.deserialize("rep", wire)))
        self.select_ctx.forwarded.clear()
        if self.caching:
            self.agg_store.flush(timestamp_of_deletes=ts)


@settings(max_examples=60)
@given(table_ops, st.booleans())
def test_table_group_by_aggregations_equal_the_model(ops: list[tuple[str, int | None, int]], caching: bool) -> None:
    count = _GroupByPipeline(KTableAggregate("C", count_initializer, count_aggregator, count_subtractor), caching)
    total = _GroupByPipeline(KTableReduce("R", lambda a, v: a + v, lambda a, v: a - v), caching)
    members = _GroupByPipeline(KTableAggregate("A", lambda: (), lambda k, v, a: tuple(sorted(a + (v,))),
                                               lambda k, v, a: _without(a, v)), caching)
    table: dict[str, int] = {}
    touched: set[str] = set()
    for key, value, ts in ops:
        for pipeline in (count, total, members):
            pipeline.pipe(key, value, ts)
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
            touched.add(f"g{value % 3}")
    groups: dict[str, list[int]] = {}
    for v in table.values():
        groups.setdefault(f"g{v % 3}", []).append(v)
    # groups that emptied keep their zero / empty aggregate, as in Kafka (the store is not deleted)
    assert count.agg_store.plain() == {g: len(groups.get(g, [])) for g in touched}
    assert total.agg_store.plain() == {g: sum(groups.get(g, [])) for g in touched}
    assert members.agg_store.plain() == {g: tuple(sorted(groups.get(g, []))) for g in touched}


def _without(items: tuple[int, ...], v: int) -> tuple[int, ...]:
    rest = list(items)
    rest.remove(v)
    return tuple(rest)
