"""KStreamAggregate / KStreamReduce (KGroupedStream count/reduce/aggregate), driven directly."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.stateful import (
    KStreamAggregate,
    KStreamReduce,
    count_aggregator,
    count_initializer,
)
from tests.unit.stateful.harness import DictTimestampedStore, FakeContext, rec, started

pytestmark = pytest.mark.unit


def count(send_old: bool = False, caching: bool = False) -> tuple[DictTimestampedStore, FakeContext, object]:
    supplier = KStreamAggregate("C", count_initializer, count_aggregator)
    if send_old:
        supplier.enable_sending_old_values()
    store = DictTimestampedStore("C", caching=caching)
    ctx = FakeContext(store)
    return store, ctx, started(supplier, ctx)


def test_count_skips_null_keys_and_values() -> None:
    store, ctx, p = count()
    for key, value, ts in [("a", "x", 1), (None, "x", 2), ("a", None, 3), ("b", "y", 4), ("a", "z", 5)]:
        p.process(rec(key, value, ts))
    assert ctx.take() == [("a", 1, None, 1), ("b", 1, None, 4), ("a", 2, None, 5)]
    assert store.plain() == {"a": 2, "b": 1}
    assert p.dropped_records == 2


def test_aggregate_sends_the_initial_aggregate_as_old_value() -> None:
    _, ctx, p = count(send_old=True)
    p.process(rec("a", "x", 1))
    p.process(rec("a", "x", 2))
    assert ctx.take() == [("a", 1, 0, 1), ("a", 2, 1, 2)]


def test_result_timestamp_is_the_max_of_record_and_aggregate() -> None:
    store, ctx, p = count()
    p.process(rec("a", "x", 10))
    p.process(rec("a", "x", 3))
    assert ctx.take() == [("a", 1, None, 10), ("a", 2, None, 10)]
    assert store.data["a"].timestamp == 10


def test_caching_forwards_the_last_aggregate_per_key_on_flush() -> None:
    store, ctx, p = count(send_old=True, caching=True)
    for ts in range(3):
        p.process(rec("a", "x", ts))
    assert ctx.take() == []
    store.flush()
    assert ctx.take() == [("a", 3, None, 2)]
    p.process(rec("a", "x", 5))
    store.flush()
    assert ctx.take() == [("a", 4, 3, 5)]


def test_reduce_starts_with_the_first_value_and_sends_none_as_its_old_value() -> None:
    supplier = KStreamReduce("R", lambda agg, v: agg + v)
    supplier.enable_sending_old_values()
    store = DictTimestampedStore("R")
    ctx = FakeContext(store)
    p = started(supplier, ctx)
    for v, ts in [("a", 5), ("b", 2), (None, 9), ("c", 7)]:
        p.process(rec("k", v, ts))
    assert ctx.take() == [("k", "a", None, 5), ("k", "ab", "a", 5), ("k", "abc", "ab", 7)]


def test_aggregate_with_user_functions() -> None:
    supplier = KStreamAggregate("A", lambda: [], lambda k, v, agg: agg + [(k, v)])
    store = DictTimestampedStore("A")
    ctx = FakeContext(store)
    p = started(supplier, ctx)
    p.process(rec("k", 1, 1))
    p.process(rec("k", 2, 2))
    assert store.plain() == {"k": [("k", 1), ("k", 2)]}


def test_an_aggregator_returning_none_deletes_the_key() -> None:
    store = DictTimestampedStore("A")
    ctx = FakeContext(store)
    p = started(KStreamAggregate("A", lambda: 0, lambda k, v, agg: None if v == "del" else agg + 1), ctx)
    p.process(rec("k", "x", 1))
    p.process(rec("k", "del", 2))
    assert store.data == {}
    assert ctx.take() == [("k", 1, None, 1), ("k", None, None, 2)]
