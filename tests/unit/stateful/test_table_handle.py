"""KTableHandle replays Kafka's KTableImpl decisions: who sends old values, which sources get materialized."""
from __future__ import annotations

import pytest

from pystreams.compiler.processors.stateful import (
    KStreamAggregate,
    KTableAggregate,
    KTableFilter,
    KTableHandle,
    KTableMapValues,
    KTableRepartitionMap,
    KTableSource,
    count_aggregator,
    count_initializer,
    count_subtractor,
)
from pystreams.errors import TopologyError

pytestmark = pytest.mark.unit

keep = lambda k, v: True  # noqa: E731


def test_group_by_forces_materialization_and_old_values_up_the_chain() -> None:
    src = KTableHandle(KTableSource("S"), "src")
    filt = KTableHandle(KTableFilter(src, keep), "filter")
    mapped = KTableHandle(KTableMapValues(filt, lambda k, v: v), "map")
    KTableRepartitionMap(mapped, lambda k, v: (k, v))
    assert mapped.enable_sending_old_values(True)
    assert src.supplier.materialized and src.supplier.send_old_values
    assert filt.supplier.send_old_values and mapped.supplier.send_old_values


def test_without_force_an_unmaterialized_source_refuses() -> None:
    src = KTableHandle(KTableSource("S"), "src")
    mapped = KTableHandle(KTableMapValues(src, lambda k, v: v), "map")
    assert not mapped.enable_sending_old_values(False)
    assert not src.supplier.materialized and not mapped.send_old_values


def test_a_materialized_map_values_sends_old_values_without_its_parent() -> None:
    src = KTableHandle(KTableSource("S"), "src")
    mapped = KTableHandle(KTableMapValues(src, lambda k, v: v, queryable_name="M"), "map")
    assert mapped.enable_sending_old_values(False)
    assert not src.supplier.materialized


def test_order_matters_like_in_kafka() -> None:
    # filter created while the source is not materialized: it does not send old values...
    src = KTableHandle(KTableSource("S"), "src")
    early = KTableFilter(src, keep)
    # ...even after something else materializes the source (a value getter for a join)
    src.value_getter_supplier()
    late = KTableFilter(src, keep)
    assert src.supplier.materialized
    assert not early.send_old_values and late.send_old_values


def test_aggregates_always_agree() -> None:
    agg = KTableHandle(KStreamAggregate("A", count_initializer, count_aggregator), "agg")
    assert agg.enable_sending_old_values(False) and agg.supplier.send_old_values
    tagg = KTableHandle(KTableAggregate("T", count_initializer, count_aggregator, count_subtractor), "tagg")
    assert tagg.enable_sending_old_values(False) and tagg.supplier.send_old_values
    assert list(tagg.value_getter_supplier().store_names()) == ["T"]


def test_non_table_supplier_is_refused() -> None:
    with pytest.raises(TopologyError, match="KTable processor supplier"):
        KTableHandle(lambda: None, "x")
