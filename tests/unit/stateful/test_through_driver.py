"""The stateful processors inside S3's task engine and TopologyTestDriver (hand-wired Processor-API topologies)."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.serdes import Serdes
from pystreams.testing import TopologyTestDriver
from tests.unit.stateful import topologies

pytestmark = pytest.mark.unit


def _drive(topology: Any, records: list[tuple[Any, Any, int]], outputs: dict[str, Any]) -> dict[str, list]:
    with TopologyTestDriver(topology, {"application.id": "stateful-test"}) as driver:
        source = driver.create_input_topic("in", Serdes.String(), Serdes.Long())
        outs = {name: driver.create_output_topic(name, Serdes.String(), serde) for name, serde in outputs.items()}
        for key, value, ts in records:
            source.pipe_input(key, value, ts)
        return {name: [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
                for name, out in outs.items()}


def _random_records(seed: int, n: int, nulls: bool = True) -> list[tuple[Any, Any, int]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        key = None if nulls and rnd.random() < 0.05 else f"k{rnd.randrange(8)}"
        value = None if nulls and rnd.random() < 0.15 else rnd.randrange(-20, 100)
        out.append((key, value, 1000 + i * 7 - rnd.randrange(20)))
    return out


def _table(records: list[tuple[Any, Any, int]]) -> dict[str, int]:
    """The input table's end state: the last non-None value per key (None deletes)."""
    table: dict[str, int] = {}
    for key, value, _ in records:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


def _last_per_key(got: list[tuple[Any, Any, int]]) -> dict[str, Any]:
    """The output table's end state: the last value sent per key (tombstones included, as None)."""
    return {key: value for key, value, _ in got}


def _aggregate_model(records: list[tuple[Any, Any, int]]) -> dict[str, str]:
    """topologies.table_group_by's string aggregate replayed: '-old' to the old group, then '+new' to the new."""
    table: dict[str, int] = {}
    aggs: dict[str, str] = {}
    for key, value, _ in records:
        old = table.get(key)
        if old is not None:
            aggs[str(old % 5)] = (aggs.get(str(old % 5), "") + f"-{old}")[-30:]
        if value is None:
            table.pop(key, None)
        else:
            aggs[str(value % 5)] = (aggs.get(str(value % 5), "") + f"+{value}")[-30:]
            table[key] = value
    return aggs


@pytest.mark.parametrize("caching", [True, False])
def test_stream_aggregations_emit_one_update_per_valid_record(caching: bool) -> None:
    records = _random_records(1, 200)
    got = _drive(topologies.stream_aggregations(caching), records,
                 {"out-count": Serdes.Long(), "out-sum": Serdes.Long(), "out-agg": Serdes.String()})
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    aggs: dict[str, str] = {}
    stamps: dict[str, int] = {}
    expected: dict[str, list] = {"out-count": [], "out-sum": [], "out-agg": []}
    for key, value, ts in records:
        if key is None or value is None:
            continue
        stamps[key] = max(ts, stamps.get(key, ts))
        counts[key] = counts.get(key, 0) + 1
        sums[key] = sums[key] + value if key in sums else value
        aggs[key] = (aggs.get(key, "") + str(value % 10))[-8:]
        expected["out-count"].append((key, counts[key], stamps[key]))
        expected["out-sum"].append((key, sums[key], stamps[key]))
        expected["out-agg"].append((key, aggs[key], stamps[key]))
    assert got == expected


@pytest.mark.parametrize("caching", [True, False])
@pytest.mark.parametrize(("materialize_source", "materialize_filter"), [(False, False), (True, False), (False, True)])
def test_table_filter_map_values(caching: bool, materialize_source: bool, materialize_filter: bool) -> None:
    records = [(k, v, ts) for k, v, ts in _random_records(2, 150) if k is not None]
    got = _drive(topologies.table_filter_map(caching, materialize_source, materialize_filter), records,
                 {"out": Serdes.Long()})["out"]
    # the end state of the output table is the model's, whatever tombstones were sent on the way
    table = _table(records)
    final = _last_per_key(got)
    assert {k: v for k, v in final.items() if v is not None} == {k: v * 10 for k, v in table.items() if v % 2 == 0}
    if materialize_source or (materialize_filter and caching):
        # old values flow (or the filter's cache drops deletes of absent keys): no tombstone for an absent key
        last: dict[str, Any] = {}
        for key, value, _ in got:
            assert not (value is None and last.get(key) is None), f"needless tombstone for {key}"
            last[key] = value
    else:
        # no old values, no cache in between: every record that does not pass the filter becomes a tombstone
        assert len(got) == len(records)


@pytest.mark.parametrize("caching", [True, False])
@pytest.mark.parametrize("op", ["count", "reduce", "aggregate"])
def test_table_group_by_through_the_repartition_topic(caching: bool, op: str) -> None:
    records = [(k, v, ts) for k, v, ts in _random_records(3, 200) if k is not None]
    serde = Serdes.String() if op == "aggregate" else Serdes.Long()
    got = _drive(topologies.table_group_by(caching, op), records, {"out": serde})["out"]
    final = _last_per_key(got)
    groups: dict[str, list[int]] = {}
    for v in _table(records).values():
        groups.setdefault(str(v % 5), []).append(v)
    if op == "count":
        assert {g: c for g, c in final.items() if c} == {g: len(vs) for g, vs in groups.items()}
    elif op == "reduce":  # a group emptied by the subtractor stays, at 0
        assert set(groups) <= set(final)
        assert final == {g: sum(groups.get(g, [])) for g in final}
    else:  # every subtract/add the repartition sent, in order: subtract the old value, then add the new
        assert final == _aggregate_model(records)
