"""hypothesis through the real stack: DSL (StreamsBuilder) -> compiler -> task engine -> TopologyTestDriver.

count/reduce/aggregate of streams and of re-grouped tables (upserts and tombstones) must equal a plain-Python
model, with caching on or off: both the queryable stores and the last value emitted per key.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

S, L = Serdes.String(), Serdes.Long()
CONFIG = {"application.id": "dsl-props", "default.dsl.store": "in_memory"}
records = st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["a1", "a2", "b1", "b2", "c1"])),
                             st.one_of(st.none(), st.integers(-1000, 1000)), st.integers(0, 10_000)),
                   max_size=40)


def _mat(name: str, caching: bool, value_serde: Any = None) -> Materialized[Any, Any]:
    mat = Materialized.as_(name)
    if value_serde is not None:
        mat = mat.with_value_serde(value_serde)
    return mat if caching else mat.with_caching_disabled()


def _run(builder: StreamsBuilder, inputs: list[tuple[Any, Any, int]], outputs: dict[str, Any],
         stores: list[str]) -> tuple[dict[str, dict[Any, Any]], dict[str, dict[Any, Any]]]:
    with TopologyTestDriver(builder.build(CONFIG), CONFIG) as driver:
        source = driver.create_input_topic("in", S, L)
        outs = {name: driver.create_output_topic(name, S, serde) for name, serde in outputs.items()}
        for key, value, ts in inputs:
            source.pipe_input(key, value, ts)
        last = {name: dict((kv.key, kv.value) for kv in out.read_key_values_to_list()) for name, out in outs.items()}
        contents = {s: {kv.key: kv.value for kv in driver.get_key_value_store(s).all()} for s in stores}
        return last, contents


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.booleans())
def test_stream_aggregations_equal_the_model(inputs: list[tuple[Any, Any, int]], caching: bool) -> None:
    b = StreamsBuilder()
    stream = b.stream("in", Consumed(key_serde=S, value_serde=L))
    stream.group_by_key().count(_mat("count", caching)).to_stream().to("count", Produced(key_serde=S, value_serde=L))
    (stream.group_by(lambda k, v: None if k is None else k[0], Grouped(key_serde=S, value_serde=L))
     .reduce(lambda a, v: a + v, _mat("sum", caching)).to_stream().to("sum", Produced(key_serde=S, value_serde=L)))
    (stream.group_by_key().aggregate(lambda: 0, lambda k, v, agg: max(agg, v), _mat("max", caching, L))
     .to_stream().to("max", Produced(key_serde=S, value_serde=L)))
    last, stores = _run(b, inputs, {"count": L, "sum": L, "max": L}, ["count", "sum", "max"])
    valid = [(k, v) for k, v, _ in inputs if k is not None and v is not None]
    count: dict[str, int] = {}
    total: dict[str, int] = {}
    biggest: dict[str, int] = {}
    for k, v in valid:
        count[k] = count.get(k, 0) + 1
        total[k[0]] = total.get(k[0], 0) + v
        biggest[k] = max(biggest.get(k, 0), v)
    assert stores == {"count": count, "sum": total, "max": biggest}
    assert last == stores


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.booleans())
def test_table_group_by_aggregations_equal_the_model(inputs: list[tuple[Any, Any, int]], caching: bool) -> None:
    b = StreamsBuilder()
    grouped = (b.table("in", Consumed(key_serde=S, value_serde=L))
               .group_by(lambda k, v: (str(v % 4), v), Grouped(key_serde=S, value_serde=L)))
    grouped.count(_mat("count", caching)).to_stream().to("count", Produced(key_serde=S, value_serde=L))
    (grouped.reduce(lambda a, v: a + v, lambda a, v: a - v, _mat("sum", caching))
     .to_stream().to("sum", Produced(key_serde=S, value_serde=L)))
    (grouped.aggregate(lambda: 0, lambda k, v, agg: agg + v * v, lambda k, v, agg: agg - v * v,
                       _mat("squares", caching, L))
     .to_stream().to("squares", Produced(key_serde=S, value_serde=L)))
    last, stores = _run(b, inputs, {"count": L, "sum": L, "squares": L}, ["count", "sum", "squares"])
    table: dict[str, int] = {}
    touched: set[str] = set()
    for k, v, _ in inputs:
        if k is None:
            continue
        if v is None:
            table.pop(k, None)
        else:
            table[k] = v
            touched.add(str(v % 4))
    groups: dict[str, list[int]] = {}
    for v in table.values():
        groups.setdefault(str(v % 4), []).append(v)
    # a group keeps its (zero) aggregate once it existed: Kafka never deletes it
    assert stores["count"] == {g: len(groups.get(g, [])) for g in touched}
    assert stores["sum"] == {g: sum(groups.get(g, [])) for g in touched}
    assert stores["squares"] == {g: sum(v * v for v in groups.get(g, [])) for g in touched}
    assert last == stores
