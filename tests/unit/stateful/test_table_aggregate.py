"""KTableAggregate / KTableReduce (KGroupedTable), driven directly with re-keyed Changes."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.stateful import (
    KTableAggregate,
    KTableReduce,
    count_aggregator,
    count_initializer,
    count_subtractor,
)
from pystreams.compiler.processors.stateful.errors import StatefulProcessingError
from tests.unit.stateful.harness import DictTimestampedStore, FakeContext, chg, started

pytestmark = pytest.mark.unit


def table_count(send_old: bool = False) -> tuple[DictTimestampedStore, FakeContext, object]:
    supplier = KTableAggregate("C", count_initializer, count_aggregator, count_subtractor)
    if send_old:
        assert supplier.enable_sending_old_values(False)
    store = DictTimestampedStore("C")
    ctx = FakeContext(store)
    return store, ctx, started(supplier, ctx)


def test_count_adds_and_subtracts() -> None:
    store, ctx, p = table_count()
    p.process(chg("a", "x", None, 1))
    p.process(chg("a", "y", None, 2))
    p.process(chg("a", None, "x", 3))
    p.process(chg("a", "z", "y", 4))  # one Change per input: subtract then add
    assert ctx.take() == [("a", 1, None, 1), ("a", 2, None, 2), ("a", 1, None, 3), ("a", 1, None, 4)]
    assert store.plain() == {"a": 1}


def test_subtract_without_aggregate_is_ignored_and_zero_is_kept() -> None:
    store, ctx, p = table_count(send_old=True)
    p.process(chg("a", None, "x", 5))       # nothing to subtract from: agg stays absent, forwarded as a tombstone
    p.process(chg("a", "x", None, 6))
    p.process(chg("a", None, "x", 7))       # count 0 stays in the store (Kafka does not delete it)
    assert ctx.take() == [("a", None, None, 5), ("a", 1, None, 6), ("a", 0, 1, 7)]
    assert store.plain() == {"a": 0}


def test_timestamps_are_max_of_record_and_aggregate() -> None:
    store, ctx, p = table_count()
    p.process(chg("a", "x", None, 10))
    p.process(chg("a", "y", None, 4))
    p.process(chg("a", None, "x", 3))
    assert [t for *_, t in ctx.take()] == [10, 10, 10]


def test_reduce_uses_adder_and_subtractor() -> None:
    supplier = KTableReduce("R", lambda agg, v: agg + v, lambda agg, v: agg - v)
    supplier.enable_sending_old_values(True)
    store = DictTimestampedStore("R")
    ctx = FakeContext(store)
    p = started(supplier, ctx)
    p.process(chg("g", 5, None, 1))
    p.process(chg("g", 7, None, 2))
    p.process(chg("g", 1, 5, 3))
    p.process(chg("g", None, 7, 4))
    assert ctx.take() == [("g", 5, None, 1), ("g", 12, 5, 2), ("g", 8, 12, 3), ("g", 1, 8, 4)]


def test_reduce_timestamp_after_subtracting_to_none() -> None:
    # subtractor returning None: the new value starts the aggregate again; the timestamp keeps the max
    supplier = KTableReduce("R", lambda agg, v: agg + v, lambda agg, v: None)
    store = DictTimestampedStore("R")
    ctx = FakeContext(store)
    p = started(supplier, ctx)
    p.process(chg("g", 5, None, 10))
    p.process(chg("g", 3, 5, 4))
    assert ctx.take() == [("g", 5, None, 10), ("g", 3, None, 10)]


def test_aggregate_with_initializer() -> None:
    supplier = KTableAggregate("A", lambda: "", lambda k, v, agg: agg + v, lambda k, v, agg: agg.replace(v, "", 1))
    store = DictTimestampedStore("A")
    ctx = FakeContext(store)
    p = started(supplier, ctx)
    p.process(chg("g", "a", None))
    p.process(chg("g", "b", None))
    p.process(chg("g", "c", "a"))
    assert store.plain() == {"g": "bc"}


def test_null_key_is_an_error_naming_the_store() -> None:
    _, _, p = table_count()
    with pytest.raises(StatefulProcessingError, match="aggregate operator with state C"):
        p.process(chg(None, "x", None))
