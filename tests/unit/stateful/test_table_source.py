"""KTableSource: Kafka's table()/to_table() processor, driven directly."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.stateful import KTableSource
from pystreams.errors import StateStoreError
from tests.unit.stateful.harness import DictTimestampedStore, FakeContext, rec, started

pytestmark = pytest.mark.unit


def test_not_materialized_forwards_change_without_old_value_and_has_no_store() -> None:
    ctx = FakeContext()
    p = started(KTableSource("S"), ctx)
    p.process(rec("a", 1, 5))
    p.process(rec("a", 2, 6))
    p.process(rec("a", None, 7))
    assert ctx.take() == [("a", 1, None, 5), ("a", 2, None, 6), ("a", None, None, 7)]


def test_null_key_is_skipped_and_counted() -> None:
    store = DictTimestampedStore("S")
    ctx = FakeContext(store)
    p = started(KTableSource("S", "S"), ctx)
    p.process(rec(None, 1))
    assert ctx.take() == [] and store.data == {}
    assert p.dropped_records == 1


@pytest.mark.parametrize("send_old", [False, True])
def test_materialized_without_cache_forwards_each_update(send_old: bool) -> None:
    store = DictTimestampedStore("S")
    ctx = FakeContext(store)
    source = KTableSource("S", "S")
    if send_old:
        source.enable_sending_old_values()
    p = started(source, ctx)
    p.process(rec("a", 1, 10))
    p.process(rec("a", 2, 4))  # out of order: still applied (Kafka only warns)
    p.process(rec("a", None, 12))
    p.process(rec("b", None, 13))  # deleting an absent key still forwards without a cache
    old = (lambda v: v) if send_old else (lambda v: None)
    assert ctx.take() == [("a", 1, None, 10), ("a", 2, old(1), 4), ("a", None, old(2), 12), ("b", None, None, 13)]
    assert store.data == {}


def test_materialized_with_cache_forwards_on_flush_only_the_latest_per_key() -> None:
    store = DictTimestampedStore("S", caching=True)
    ctx = FakeContext(store)
    source = KTableSource("S", "S")
    source.enable_sending_old_values()
    p = started(source, ctx)
    p.process(rec("a", 1, 1))
    store.flush()
    p.process(rec("a", 2, 2))
    p.process(rec("a", 3, 3))
    p.process(rec("b", 9, 3))
    p.process(rec("b", None, 4))
    assert ctx.take() == [("a", 1, None, 1)]
    store.flush()
    assert ctx.take() == [("a", 3, 1, 3)]  # "b" appeared and vanished inside one flush: nothing
    assert store.plain() == {"a": 3}


def test_store_is_written_with_record_timestamp() -> None:
    store = DictTimestampedStore("S")
    p = started(KTableSource("S", "S"), FakeContext(store))
    p.process(rec("k", "v", 42))
    assert (store.data["k"].value, store.data["k"].timestamp) == ("v", 42)


def test_missing_store_is_a_clear_error() -> None:
    with pytest.raises(StateStoreError, match="connect it"):
        started(KTableSource("S", "S"), FakeContext())


def test_materialization_flags_follow_kafka() -> None:
    source = KTableSource("S")
    assert not source.materialized
    source.materialize()
    assert source.materialized and not source.send_old_values
    other = KTableSource("T")
    other.enable_sending_old_values()
    assert other.materialized and other.send_old_values and other.queryable_name == "T"
