"""Processor-API topologies wired the way Kafka's DSL compiles them, using the stateful suppliers directly.

They let the stateful processors run inside S3's real task engine and TopologyTestDriver independently of the
DSL; names follow Kafka's (KTABLE-SOURCE-0000000001, ...) so outputs are comparable with the Java oracle.
"""
from __future__ import annotations

from typing import Any

from pystreams.compiler import Topology
from pystreams.compiler.processors.stateful import (
    ChangedSerde,
    KStreamAggregate,
    KStreamReduce,
    KTableAggregate,
    KTableFilter,
    KTableHandle,
    KTableMapValues,
    KTableReduce,
    KTableRepartitionMap,
    KTableSource,
    KTableToStream,
    count_aggregator,
    count_initializer,
    count_subtractor,
)
from pystreams.serdes import Serdes
from pystreams.state import Stores


def store(name: str, key_serde: Any, value_serde: Any, caching: bool) -> Any:
    """A persistent timestamped store builder, caching per flag (Kafka's KeyValueStoreMaterializer)."""
    builder = Stores.timestamped_key_value_store_builder(Stores.persistent_timestamped_key_value_store(name),
                                                         key_serde, value_serde)
    return builder.with_caching_enabled() if caching else builder.with_caching_disabled()


def stream_aggregations(caching: bool) -> Topology:
    """stream(in: String/Long) -> group_by_key: count -> out-count, reduce(+) -> out-sum, aggregate -> out-agg."""
    t = Topology()
    t.add_source("KSTREAM-SOURCE-0000000000", "in", key_serde=Serdes.String(), value_serde=Serdes.Long())
    specs = [
        ("KSTREAM-AGGREGATE-0000000002", "KSTREAM-AGGREGATE-STATE-STORE-0000000001",
         KStreamAggregate("KSTREAM-AGGREGATE-STATE-STORE-0000000001", count_initializer, count_aggregator),
         "out-count", Serdes.Long()),
        ("KSTREAM-REDUCE-0000000004", "KSTREAM-REDUCE-STATE-STORE-0000000003",
         KStreamReduce("KSTREAM-REDUCE-STATE-STORE-0000000003", lambda a, v: a + v), "out-sum", Serdes.Long()),
        ("KSTREAM-AGGREGATE-0000000006", "KSTREAM-AGGREGATE-STATE-STORE-0000000005",
         KStreamAggregate("KSTREAM-AGGREGATE-STATE-STORE-0000000005", lambda: "",
                          lambda k, v, agg: (agg + str(v % 10))[-8:]), "out-agg", Serdes.String()),
    ]
    n = 7
    for name, store_name, supplier, topic, value_serde in specs:
        t.add_processor(name, supplier, "KSTREAM-SOURCE-0000000000")
        t.add_state_store(store(store_name, Serdes.String(), value_serde, caching), name)
        to_stream = f"KTABLE-TOSTREAM-{n:010d}"
        t.add_processor(to_stream, KTableToStream(), name)
        t.add_sink(f"KSTREAM-SINK-{n + 1:010d}", topic, to_stream, key_serde=Serdes.String(), value_serde=value_serde)
        n += 2
    return t


def table_filter_map(caching: bool, materialize_source: bool, materialize_filter: bool) -> Topology:
    """table(in) [.filter(even) [materialized]] .map_values(*10) .to_stream().to(out)."""
    t = Topology()
    src = KTableSource("in-STATE-STORE-0000000000", "source-store" if materialize_source else None)
    src_handle = KTableHandle(src, "KTABLE-SOURCE-0000000001")
    filt = KTableFilter(src_handle, lambda k, v: v % 2 == 0, queryable_name="filter-store" if materialize_filter else None)
    filt_handle = KTableHandle(filt, "KTABLE-FILTER-0000000003")
    mapped = KTableMapValues(filt_handle, lambda k, v: v * 10)
    t.add_source("KSTREAM-SOURCE-0000000000", "in", key_serde=Serdes.String(), value_serde=Serdes.Long())
    t.add_processor("KTABLE-SOURCE-0000000001", src, "KSTREAM-SOURCE-0000000000")
    if src.materialized:
        t.add_state_store(store(src.queryable_name, Serdes.String(), Serdes.Long(), caching), "KTABLE-SOURCE-0000000001")
    t.add_processor("KTABLE-FILTER-0000000003", filt, "KTABLE-SOURCE-0000000001")
    if materialize_filter:
        t.add_state_store(store("filter-store", Serdes.String(), Serdes.Long(), caching), "KTABLE-FILTER-0000000003")
    t.add_processor("KTABLE-MAPVALUES-0000000004", mapped, "KTABLE-FILTER-0000000003")
    t.add_processor("KTABLE-TOSTREAM-0000000005", KTableToStream(), "KTABLE-MAPVALUES-0000000004")
    t.add_sink("KSTREAM-SINK-0000000006", "out", "KTABLE-TOSTREAM-0000000005",
               key_serde=Serdes.String(), value_serde=Serdes.Long())
    return t


def table_group_by(caching: bool, op: str) -> Topology:
    """table(in: String/Long).group_by((v % 5 as str, v)).count|reduce|aggregate .to_stream().to(out)."""
    t = Topology()
    src = KTableSource("in-STATE-STORE-0000000000", None)
    src_handle = KTableHandle(src, "KTABLE-SOURCE-0000000001")
    select = KTableRepartitionMap(src_handle, lambda k, v: (str(v % 5), v))
    src_handle.enable_sending_old_values(True)
    agg_store = "KTABLE-AGGREGATE-STATE-STORE-0000000003"
    value_serde: Any = Serdes.Long()
    if op == "count":
        agg: Any = KTableAggregate(agg_store, count_initializer, count_aggregator, count_subtractor)
    elif op == "reduce":
        agg = KTableReduce(agg_store, lambda a, v: a + v, lambda a, v: a - v)
    else:
        agg = KTableAggregate(agg_store, lambda: "", lambda k, v, a: (a + f"+{v}")[-30:],
                              lambda k, v, a: (a + f"-{v}")[-30:])
        value_serde = Serdes.String()
    rep = f"{agg_store}-repartition"
    t.add_source("KSTREAM-SOURCE-0000000000", "in", key_serde=Serdes.String(), value_serde=Serdes.Long())
    t.add_processor("KTABLE-SOURCE-0000000001", src, "KSTREAM-SOURCE-0000000000")
    t.add_state_store(store(src.store_name, Serdes.String(), Serdes.Long(), caching), "KTABLE-SOURCE-0000000001")
    t.add_processor("KTABLE-SELECT-0000000002", select, "KTABLE-SOURCE-0000000001")
    t.add_internal_topic(rep)
    t.add_sink("KSTREAM-SINK-0000000004", rep, "KTABLE-SELECT-0000000002",
               key_serde=Serdes.String(), value_serde=ChangedSerde(Serdes.Long()))
    t.add_source("KSTREAM-SOURCE-0000000005", rep, key_serde=Serdes.String(), value_serde=ChangedSerde(Serdes.Long()))
    t.add_processor("KTABLE-AGGREGATE-0000000006", agg, "KSTREAM-SOURCE-0000000005")
    t.add_state_store(store(agg_store, Serdes.String(), value_serde, caching), "KTABLE-AGGREGATE-0000000006")
    t.add_processor("KTABLE-TOSTREAM-0000000007", KTableToStream(), "KTABLE-AGGREGATE-0000000006")
    t.add_sink("KSTREAM-SINK-0000000008", "out", "KTABLE-TOSTREAM-0000000007",
               key_serde=Serdes.String(), value_serde=value_serde)
    return t
