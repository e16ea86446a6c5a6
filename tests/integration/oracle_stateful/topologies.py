"""The Python twins of S2's Java oracle topologies (tests/reference/java/.../topologies/Stateful*.java).

Each builder takes the same parameters the Java class reads from its config ("oracle.caching", ...),
so one parametrization drives both sides.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder

S, L = Serdes.String(), Serdes.Long()


def _caching(materialized: Materialized[Any, Any], caching: bool) -> Materialized[Any, Any]:
    return materialized if caching else materialized.with_caching_disabled()


def _last(text: str, n: int) -> str:
    return text[-n:] if len(text) > n else text


def stateful_stream_aggregations(b: StreamsBuilder, caching: bool) -> None:
    stream = b.stream("in", Consumed(key_serde=S, value_serde=L))
    (stream.group_by_key(Grouped(key_serde=S, value_serde=L))
     .count(_caching(Materialized.as_("count-store"), caching))
     .to_stream().to("out-count", Produced(key_serde=S, value_serde=L)))
    (stream.group_by(lambda k, v: None if k is None else k[0], Grouped(key_serde=S, value_serde=L))
     .reduce(lambda a, v: a + v, _caching(Materialized.as_("sum-store").with_value_serde(L), caching))
     .to_stream().to("out-sum", Produced(key_serde=S, value_serde=L)))
    (stream.group_by_key(Grouped(key_serde=S, value_serde=L))
     .aggregate(lambda: "", lambda k, v, agg: _last(agg + str(v % 10), 8),
                _caching(Materialized.with_(S, S), caching))
     .to_stream().to("out-agg", Produced(key_serde=S, value_serde=S)))


def stateful_table_group_by(b: StreamsBuilder, caching: bool) -> None:
    grouped = (b.table("in", Consumed(key_serde=S, value_serde=L))
               .group_by(lambda k, v: (str(v % 5), v), Grouped(key_serde=S, value_serde=L)))
    (grouped.count(_caching(Materialized.as_("group-count"), caching))
     .to_stream().to("out-count", Produced(key_serde=S, value_serde=L)))
    (grouped.reduce(lambda a, v: a + v, lambda a, v: a - v, _caching(Materialized.as_("group-sum"), caching))
     .to_stream().to("out-sum", Produced(key_serde=S, value_serde=L)))
    (grouped.aggregate(lambda: "", lambda k, v, agg: _last(f"{agg}+{v}", 30), lambda k, v, agg: _last(f"{agg}-{v}", 30),
                       _caching(Materialized.as_("group-agg").with_value_serde(S), caching))
     .to_stream().to("out-agg", Produced(key_serde=S, value_serde=S)))


def stateful_table_filter_map(b: StreamsBuilder, caching: bool, materialize_source: bool,
                              materialize_filter: bool, materialize_map: bool = False) -> None:
    consumed = Consumed(key_serde=S, value_serde=L)
    table = (b.table("in", consumed, _caching(Materialized.as_("source-store"), caching)) if materialize_source
             else b.table("in", consumed))
    even: Callable[[Any, Any], bool] = lambda k, v: v % 2 == 0  # noqa: E731
    evens = (table.filter(even, _caching(Materialized.as_("filter-store").with_key_serde(S).with_value_serde(L), caching)) if materialize_filter
             else table.filter(even))
    tens = (evens.map_values(lambda v: v * 10, _caching(Materialized.as_("map-store").with_key_serde(S)
                                                        .with_value_serde(L), caching)) if materialize_map
            else evens.map_values(lambda v: v * 10))
    tens.to_stream().to("out", Produced(key_serde=S, value_serde=L))
    table.filter_not(lambda k, v: v > 50).to_stream().to("out-not", Produced(key_serde=S, value_serde=L))


def stateful_to_table(b: StreamsBuilder, caching: bool) -> None:
    stream = b.stream("in", Consumed(key_serde=S, value_serde=L))
    (stream.to_table(_caching(Materialized.as_("latest").with_key_serde(S).with_value_serde(L), caching)).filter(lambda k, v: v > 0)
     .to_stream().to("out", Produced(key_serde=S, value_serde=L)))
    (stream.select_key(lambda k, v: None if k is None else k[0]).to_table(Materialized.with_(S, L))
     .to_stream().to("out-rekeyed", Produced(key_serde=S, value_serde=L)))


def stateful_chains(b: StreamsBuilder, caching: bool) -> None:
    counts = (b.stream("in", Consumed(key_serde=S, value_serde=L)).group_by_key()
              .count(_caching(Materialized.as_("counts"), caching)))
    (counts.filter(lambda k, n: n % 2 == 0).map_values(lambda n: n * 100)
     .to_stream().to("out-even", Produced(key_serde=S, value_serde=L)))
    (counts.group_by(lambda k, n: (str(n), k), Grouped(key_serde=S, value_serde=S))
     .count(_caching(Materialized.as_("histogram"), caching))
     .to_stream().to("out-histogram", Produced(key_serde=S, value_serde=L)))
    (b.table("tin", Consumed(key_serde=S, value_serde=L))
     .filter(lambda k, v: v >= 0)
     .map_values(lambda v: v % 7)
     .group_by(lambda k, v: (None, v) if v == 3 else (str(v), v), Grouped(key_serde=S, value_serde=L))
     .reduce(lambda a, v: a + v, lambda a, v: a - v, _caching(Materialized.as_("chain"), caching))
     .to_stream().to("out-chain", Produced(key_serde=S, value_serde=L)))


# name -> (builder, output topics with their value serdes, in the Java class's outputs() order)
TOPOLOGIES: dict[str, tuple[Callable[..., None], list[tuple[str, Any]]]] = {
    "statefulstreamaggregations": (stateful_stream_aggregations, [("out-count", L), ("out-sum", L), ("out-agg", S)]),
    "statefultablegroupby": (stateful_table_group_by, [("out-count", L), ("out-sum", L), ("out-agg", S)]),
    "statefultablefiltermap": (stateful_table_filter_map, [("out", L), ("out-not", L)]),
    "statefultotable": (stateful_to_table, [("out", L), ("out-rekeyed", L)]),
    "statefulchains": (stateful_chains, [("out-histogram", L), ("out-chain", L), ("out-even", L)]),
}
