"""KTableFilter / KTableMapValues: tombstones, old values, materialized and computed value getters."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.stateful import KTableFilter, KTableHandle, KTableMapValues, KTableSource
from pystreams.compiler.processors.stateful._state_types import ValueAndTimestamp
from tests.unit.stateful.harness import DictTimestampedStore, FakeContext, chg, started

pytestmark = pytest.mark.unit

even = lambda k, v: v % 2 == 0  # noqa: E731


def source_handle(materialized: bool) -> KTableHandle:
    return KTableHandle(KTableSource("S", "S" if materialized else None), "src")


def test_filter_without_old_values_forwards_a_tombstone_for_every_filtered_record() -> None:
    f = KTableFilter(source_handle(False), even)
    assert not f.send_old_values
    ctx = FakeContext()
    p = started(f, ctx)
    p.process(chg("a", 2, None, 1))
    p.process(chg("a", 3, None, 2))
    p.process(chg("b", 5, None, 3))
    assert ctx.take() == [("a", 2, None, 1), ("a", None, None, 2), ("b", None, None, 3)]


def test_filter_on_materialized_parent_sends_old_values_and_skips_needless_tombstones() -> None:
    f = KTableFilter(source_handle(True), even)
    assert f.send_old_values
    ctx = FakeContext()
    p = started(f, ctx)
    p.process(chg("a", 2, None))
    p.process(chg("a", 3, 2))   # leaves the filter: tombstone with old value
    p.process(chg("b", 5, None))  # never passed: nothing
    p.process(chg("a", 5, 3))   # still filtered out: nothing
    assert ctx.take() == [("a", 2, None, 0), ("a", None, 2, 0)]


def test_filter_not_inverts() -> None:
    f = KTableFilter(source_handle(True), even, filter_not=True)
    ctx = FakeContext()
    p = started(f, ctx)
    p.process(chg("a", 3, None))
    p.process(chg("a", 4, 3))
    assert ctx.take() == [("a", 3, None, 0), ("a", None, 3, 0)]


def test_materialized_filter_reads_its_own_store_for_old_values() -> None:
    parent = source_handle(False)
    f = KTableFilter(parent, even, queryable_name="F")
    assert not f.send_old_values  # parent not materialized when the filter was created
    assert f.enable_sending_old_values(False) and f.send_old_values
    store = DictTimestampedStore("F")
    ctx = FakeContext(store)
    p = started(f, ctx)
    p.process(chg("a", 2, None, 1))
    p.process(chg("a", 4, None, 2))
    p.process(chg("a", 7, None, 3))
    p.process(chg("a", 9, None, 4))
    assert ctx.take() == [("a", 2, None, 1), ("a", 4, 2, 2), ("a", None, 4, 3)]
    assert store.data == {}


def test_materialized_filter_without_old_values_writes_and_forwards_tombstones() -> None:
    f = KTableFilter(source_handle(False), even, queryable_name="F")
    store = DictTimestampedStore("F")
    ctx = FakeContext(store)
    p = started(f, ctx)
    p.process(chg("a", 2, None, 1))
    p.process(chg("a", 3, None, 2))
    assert ctx.take() == [("a", 2, None, 1), ("a", None, None, 2)]


def test_map_values_maps_new_and_old_and_keeps_tombstones() -> None:
    parent = source_handle(True)
    parent.enable_sending_old_values(True)
    m = KTableMapValues(parent, lambda k, v: f"{k}{v}")
    assert not m.send_old_values  # map_values does not ask by itself
    assert m.enable_sending_old_values(False)
    ctx = FakeContext()
    p = started(m, ctx)
    p.process(chg("a", 1, None, 1))
    p.process(chg("a", 2, 1, 2))
    p.process(chg("a", None, 2, 3))
    assert ctx.take() == [("a", "a1", None, 1), ("a", "a2", "a1", 2), ("a", None, "a2", 3)]


def test_materialized_map_values_stores_mapped_values() -> None:
    m = KTableMapValues(source_handle(False), lambda k, v: v * 10, queryable_name="M")
    store = DictTimestampedStore("M")
    ctx = FakeContext(store)
    p = started(m, ctx)
    p.process(chg("a", 1, None, 7))
    assert store.data["a"] == ValueAndTimestamp(10, 7)
    assert ctx.take() == [("a", 10, None, 7)]


def test_value_getters_recompute_through_a_non_materialized_chain() -> None:
    src = source_handle(False)
    f = KTableHandle(KTableFilter(src, even), "filter")
    m = KTableHandle(KTableMapValues(f, lambda k, v: v + 100), "map")
    getter_supplier = m.value_getter_supplier()
    assert list(getter_supplier.store_names()) == ["S"]
    assert src.supplier.materialized  # asking for a getter materializes the source
    store = DictTimestampedStore("S")
    store.put("a", ValueAndTimestamp(4, 9))
    store.put("b", ValueAndTimestamp(5, 9))
    getter = getter_supplier.get()
    getter.init(FakeContext(store))
    assert getter.get("a") == ValueAndTimestamp(104, 9)
    assert getter.get("b") is None and getter.get("zz") is None


def test_value_getter_of_a_materialized_filter_reads_its_store() -> None:
    f = KTableHandle(KTableFilter(source_handle(False), even, queryable_name="F"), "filter")
    gs = f.value_getter_supplier()
    assert list(gs.store_names()) == ["F"]
    store = DictTimestampedStore("F")
    store.put("x", ValueAndTimestamp(2, 1))
    getter = gs.get()
    getter.init(FakeContext(store))
    assert getter.get("x") == ValueAndTimestamp(2, 1)
