"""KStream[K, V]: a record stream; each method appends a named node to the builder's graph.

Names, counter burns and serde inheritance follow Kafka's KStreamImpl, so a topology built here
describes exactly like the same topology built in Java.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, TypeVar, overload

from pystreams.dsl import arity
from pystreams.dsl.options import (Grouped, Materialized, Named, Printed, Produced,
                                   Repartitioned, named_of)
from pystreams.dsl.repartition import repartition_node
from pystreams.errors import TopologyError
from pystreams.graph import ProcessorGraphNode, SinkGraphNode, TableOpNode

if TYPE_CHECKING:
    from pystreams.dsl.branched import BranchedKStream
    from pystreams.dsl.builder import StreamsBuilder
    from pystreams.dsl.grouped import KGroupedStream
    from pystreams.dsl.ktable import KTable

K = TypeVar("K")
V = TypeVar("V")
KR = TypeVar("KR")
VR = TypeVar("VR")

FILTER_NAME = "KSTREAM-FILTER-"
PEEK_NAME = "KSTREAM-PEEK-"
FLATMAP_NAME = "KSTREAM-FLATMAP-"
FLATMAPVALUES_NAME = "KSTREAM-FLATMAPVALUES-"
MAP_NAME = "KSTREAM-MAP-"
MAPVALUES_NAME = "KSTREAM-MAPVALUES-"
PROCESSOR_NAME = "KSTREAM-PROCESSOR-"
PROCESSVALUES_NAME = "KSTREAM-PROCESSVALUES-"
PRINTING_NAME = "KSTREAM-PRINTER-"
KEY_SELECT_NAME = "KSTREAM-KEY-SELECT-"
FOREACH_NAME = "KSTREAM-FOREACH-"
TO_KTABLE_NAME = "KSTREAM-TOTABLE-"
REPARTITION_NAME = "KSTREAM-REPARTITION-"
MERGE_NAME = "KSTREAM-MERGE-"
SINK_NAME = "KSTREAM-SINK-"

TopicExtractor = Callable[[Any, Any, Any], str]  # or an object with .extract(key, value, record_context)


class KStream(Generic[K, V]):
    """An unbounded stream of key-value records (Kafka's KStream)."""

    def __init__(self, builder: StreamsBuilder, name: str, key_serde: Any, value_serde: Any,
                 repartition_required: bool = False) -> None:
        self._builder = builder
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.repartition_required = repartition_required

    def __repr__(self) -> str:
        return f"KStream({self.name})"

    # ---------------------------------------------------------------- helpers
    def _add(self, op: str, prefix: str, named: Named | str | None, fn: Any = None, *,
             key_serde: Any = None, value_serde: Any = None, repartition: bool | None = None,
             key_changing: bool = False, options: tuple[tuple[str, Any], ...] = ()) -> KStream[Any, Any]:
        name = self._builder.named_or_generate(named_of(named), prefix)
        value_changing = op in ("map_values", "flat_map_values")
        self._builder.add_node(ProcessorGraphNode(name, (self.name,), key_changing=key_changing,
                                                  value_changing=value_changing, op=op, fn=fn,
                                                  options=options))
        return KStream(self._builder, name, key_serde, value_serde,
                       self.repartition_required if repartition is None else repartition)

    def _same_builder(self, other: Any, operator: str) -> None:
        if getattr(other, "_builder", None) is not self._builder:
            raise TopologyError(f"{operator}: both streams must come from the same StreamsBuilder.")

    # ---------------------------------------------------------------- stateless
    def filter(self, predicate: Callable[[K, V], bool], named: Named | str | None = None) -> KStream[K, V]:
        """Keep records for which predicate(key, value) is true."""
        arity.check(predicate, 2, "KStream.filter", "predicate(key, value) -> bool")
        return self._add("filter", FILTER_NAME, named, predicate, key_serde=self.key_serde,
                         value_serde=self.value_serde)

    def filter_not(self, predicate: Callable[[K, V], bool],
                   named: Named | str | None = None) -> KStream[K, V]:
        """Drop records for which predicate(key, value) is true."""
        arity.check(predicate, 2, "KStream.filter_not", "predicate(key, value) -> bool")
        return self._add("filter_not", FILTER_NAME, named, predicate, key_serde=self.key_serde,
                         value_serde=self.value_serde)

    def select_key(self, mapper: Callable[[K, V], KR], named: Named | str | None = None) -> KStream[KR, V]:
        """New key = mapper(key, value); a later stateful operation repartitions."""
        arity.check(mapper, 2, "KStream.select_key", "mapper(key, value) -> new_key")
        return self._add("select_key", KEY_SELECT_NAME, named, mapper, value_serde=self.value_serde,
                         repartition=True, key_changing=True)

    def map(self, mapper: Callable[[K, V], tuple[KR, VR]],
            named: Named | str | None = None) -> KStream[KR, VR]:
        """mapper(key, value) -> (new_key, new_value) (a KeyValue or a 2-tuple)."""
        arity.check(mapper, 2, "KStream.map", "mapper(key, value) -> (key, value)")
        return self._add("map", MAP_NAME, named, mapper, repartition=True, key_changing=True)

    @overload
    def map_values(self, mapper: Callable[[V], VR], named: Named | str | None = None) -> KStream[K, VR]: ...

    @overload
    def map_values(self, mapper: Callable[[K, V], VR],
                   named: Named | str | None = None) -> KStream[K, VR]: ...

    def map_values(self, mapper: Callable[..., Any], named: Named | str | None = None) -> KStream[K, Any]:
        """mapper(value) or mapper(key, value) -> new value; the key is kept (no repartition)."""
        with_key = arity.value_or_key_value(mapper, "KStream.map_values", "mapper(value)",
                                            "mapper(key, value)")
        return self._add("map_values", MAPVALUES_NAME, named, mapper, key_serde=self.key_serde,
                         options=(("with_key", with_key),))

    def map_values_with_key(self, mapper: Callable[[K, V], VR],
                            named: Named | str | None = None) -> KStream[K, VR]:
        """mapper(key, value) -> new value (Kafka's ValueMapperWithKey)."""
        arity.check(mapper, 2, "KStream.map_values_with_key", "mapper(key, value)")
        return self._add("map_values", MAPVALUES_NAME, named, mapper, key_serde=self.key_serde,
                         options=(("with_key", True),))

    def flat_map(self, mapper: Callable[[K, V], Iterable[tuple[KR, VR]]],
                 named: Named | str | None = None) -> KStream[KR, VR]:
        """mapper(key, value) -> iterable of (key, value): zero or more records per input."""
        arity.check(mapper, 2, "KStream.flat_map", "mapper(key, value) -> iterable of (key, value)")
        return self._add("flat_map", FLATMAP_NAME, named, mapper, repartition=True, key_changing=True)

    @overload
    def flat_map_values(self, mapper: Callable[[V], Iterable[VR]],
                        named: Named | str | None = None) -> KStream[K, VR]: ...

    @overload
    def flat_map_values(self, mapper: Callable[[K, V], Iterable[VR]],
                        named: Named | str | None = None) -> KStream[K, VR]: ...

    def flat_map_values(self, mapper: Callable[..., Any],
                        named: Named | str | None = None) -> KStream[K, Any]:
        """mapper(value) or mapper(key, value) -> iterable of values, each with the same key."""
        with_key = arity.value_or_key_value(mapper, "KStream.flat_map_values", "mapper(value)",
                                            "mapper(key, value)")
        return self._add("flat_map_values", FLATMAPVALUES_NAME, named, mapper, key_serde=self.key_serde,
                         options=(("with_key", with_key),))

    def peek(self, action: Callable[[K, V], None], named: Named | str | None = None) -> KStream[K, V]:
        """Call action(key, value) for each record and pass it on unchanged."""
        arity.check(action, 2, "KStream.peek", "action(key, value)")
        return self._add("peek", PEEK_NAME, named, action, key_serde=self.key_serde,
                         value_serde=self.value_serde)

    def foreach(self, action: Callable[[K, V], None], named: Named | str | None = None) -> None:
        """Call action(key, value) for each record (a terminal operation)."""
        arity.check(action, 2, "KStream.foreach", "action(key, value)")
        self._add("foreach", FOREACH_NAME, named, action)

    def print(self, printed: Printed[K, V] | None = None) -> None:
        """Print records as "[label]: key, value" (Kafka's print(Printed))."""
        printed = printed or Printed()
        if printed.mapper is not None:
            arity.check(printed.mapper, 2, "KStream.print", "mapper(key, value) -> str")
        self._add("print", PRINTING_NAME, printed.name, printed.mapper,
                  options=(("label", printed.label or self.name), ("file_path", printed.file_path)))

    def split(self, named: Named | str | None = None) -> BranchedKStream[K, V]:
        """Branch records by predicates: split().branch(p1).branch(p2).default_branch()."""
        from pystreams.dsl.branched import BranchedKStream

        return BranchedKStream(self, named_of(named))

    def merge(self, stream: KStream[K, V], named: Named | str | None = None) -> KStream[K, V]:
        """Both streams' records in one stream (no ordering guarantee between them)."""
        self._same_builder(stream, "KStream.merge")
        name = self._builder.named_or_generate(named_of(named), MERGE_NAME)
        # Kafka's graph keeps parents in a set: a stream merged with itself has one parent
        parents = (self.name,) if stream.name == self.name else (self.name, stream.name)
        self._builder.add_node(ProcessorGraphNode(name, parents, op="merge"))
        return KStream(self._builder, name, None, None,
                       self.repartition_required or stream.repartition_required)

    # ---------------------------------------------------------------- topics
    def repartition(self, repartitioned: Repartitioned[K, V] | None = None) -> KStream[K, V]:
        """Write to an internal "<name>-repartition" topic and read it back (re-distributes by key)."""
        repartitioned = repartitioned or Repartitioned()
        name = repartitioned.name or self._builder.new_processor_name(REPARTITION_NAME)
        value_serde = repartitioned.value_serde or self.value_serde
        key_serde = repartitioned.key_serde or self.key_serde
        node = repartition_node(self._builder, self.name, name, repartitioned.key_serde, value_serde,
                                partitioner=repartitioned.partitioner,
                                partitions=repartitioned.num_partitions, optimizable=False)
        self._builder.add_node(node)
        return KStream(self._builder, node.name, key_serde, value_serde, repartition_required=False)

    def to(self, topic: str | TopicExtractor, produced: Produced[K, V] | None = None) -> None:
        """Write to a topic, or to the topic extractor(key, value, record_context) returns."""
        produced = produced or Produced()
        if isinstance(topic, str):
            if not topic:
                raise TopologyError("KStream.to: the topic name must not be empty.")
            fixed, extractor = topic, None
        else:
            extract = getattr(topic, "extract", None)
            arity.check(extract if callable(extract) and not callable(topic) else topic, 3, "KStream.to",
                        "extractor(key, value, record_context) -> topic")
            fixed, extractor = None, topic
        name = self._builder.named_or_generate(produced.name, SINK_NAME)
        self._builder.add_node(SinkGraphNode(
            name, (self.name,), topic=fixed, extractor=extractor,
            key_serde=produced.key_serde if produced.key_serde is not None else self.key_serde,
            value_serde=produced.value_serde if produced.value_serde is not None else self.value_serde,
            partitioner=produced.partitioner))

    # ---------------------------------------------------------------- process
    def process(self, supplier: Callable[[], Any], *store_names: str,
                named: Named | str | None = None) -> KStream[Any, Any]:
        """Run a Processor (Processor API) on each record; it may use the named stores."""
        return self._process(supplier, store_names, named, PROCESSOR_NAME, "process")

    def process_values(self, supplier: Callable[[], Any], *store_names: str,
                       named: Named | str | None = None) -> KStream[K, Any]:
        """Run a FixedKeyProcessor on each record: values may change, keys may not."""
        return self._process(supplier, store_names, named, PROCESSVALUES_NAME, "process_values")

    def _process(self, supplier: Any, store_names: tuple[str, ...], named: Named | str | None,
                 prefix: str, op: str) -> KStream[Any, Any]:
        if not callable(supplier):
            raise TopologyError(f"KStream.{op}: expected a supplier (a Processor class or a function "
                                f"returning a new Processor), got {supplier!r}.")
        arity.check(supplier, 0, f"KStream.{op}", "supplier() -> Processor")
        for store in store_names:
            if not isinstance(store, str):
                raise TopologyError(f"KStream.{op}: store names must be strings, got {store!r}.")
        user = named_of(named)
        name = user if user is not None else self._builder.new_processor_name(prefix)
        self._builder.add_node(ProcessorGraphNode(name, (self.name,), op=op, fn=supplier,
                                                  stores=tuple(store_names)))
        if op == "process":
            return KStream(self._builder, name, None, None, repartition_required=True)
        return KStream(self._builder, name, self.key_serde, None, self.repartition_required)

    # ---------------------------------------------------------------- stateful
    def group_by(self, selector: Callable[[K, V], KR],
                 grouped: Grouped[KR, V] | None = None) -> KGroupedStream[KR, V]:
        """Group by a new key selector(key, value): aggregations repartition first."""
        from pystreams.dsl.grouped import KGroupedStream

        arity.check(selector, 2, "KStream.group_by", "selector(key, value) -> new_key")
        if grouped is None:
            grouped = Grouped(None, self.value_serde)
        name = self._builder.named_or_generate(grouped.name, KEY_SELECT_NAME)
        self._builder.add_node(ProcessorGraphNode(name, (self.name,), key_changing=True, op="select_key",
                                                  fn=selector))
        return KGroupedStream(self._builder, name, grouped, repartition_required=True)

    def group_by_key(self, grouped: Grouped[K, V] | None = None) -> KGroupedStream[K, V]:
        """Group by the current key (repartitions only if an earlier step changed keys)."""
        from pystreams.dsl.grouped import KGroupedStream

        if grouped is None:
            grouped = Grouped(self.key_serde, self.value_serde)
        return KGroupedStream(self._builder, self.name, grouped, self.repartition_required)

    def to_table(self, named: Named | str | Materialized[K, V] | None = None,
                 materialized: Materialized[K, V] | None = None) -> KTable[K, V]:
        """The stream as a changelog table: the latest value per key (None deletes)."""
        from pystreams.dsl.ktable import KTable

        if isinstance(named, Materialized):
            named, materialized = None, named
        name = self._builder.named_or_generate(named_of(named), TO_KTABLE_NAME)
        default = Materialized(key_serde=self.key_serde, value_serde=self.value_serde)
        store = self._builder.store_spec(materialized or default, TO_KTABLE_NAME)
        key_serde = store.key_serde if store.key_serde is not None else self.key_serde
        value_serde = store.value_serde if store.value_serde is not None else self.value_serde
        parent = self.name
        if self.repartition_required:
            node = repartition_node(self._builder, self.name, name, key_serde, value_serde)
            self._builder.add_node(node)
            parent = node.name
        store = replace(store, key_serde=key_serde, value_serde=value_serde)
        self._builder.add_node(TableOpNode(name, (parent,), op="to_table", store=store))
        return KTable(self._builder, name, key_serde, value_serde)

    # ---------------------------------------------------------------- joins (pystreams.dsl.joins)
    def join(self, other: Any, joiner_or_selector: Callable[..., Any], windows_or_joiner: Any = None,
             options: Any = None) -> KStream[K, Any]:
        """Inner join with a KStream (joiner, JoinWindows[, StreamJoined]), a KTable (joiner[, Joined]) or a
        GlobalKTable (key_selector(key, value), joiner[, name])."""
        return self._join(other, joiner_or_selector, windows_or_joiner, options, left=False, outer=False)

    def left_join(self, other: Any, joiner_or_selector: Callable[..., Any], windows_or_joiner: Any = None,
                  options: Any = None) -> KStream[K, Any]:
        """Left join: every record of this stream produces output, joined with None when unmatched."""
        return self._join(other, joiner_or_selector, windows_or_joiner, options, left=True, outer=False)

    def outer_join(self, other: KStream[K, Any], joiner: Callable[..., Any], windows: Any,
                   stream_joined: Any = None) -> KStream[K, Any]:
        """Outer join of two streams within JoinWindows (unmatched records of either side are emitted)."""
        if not isinstance(other, KStream):
            raise TopologyError("KStream.outer_join: only a KStream can be outer-joined (Kafka has no "
                                "stream-table outer join); use left_join for a KTable.")
        return self._join(other, joiner, windows, stream_joined, left=True, outer=True)

    def _join(self, other: Any, first: Any, second: Any, third: Any, left: bool, outer: bool) -> KStream[K, Any]:
        from pystreams.dsl import joins
        from pystreams.dsl.ktable import GlobalKTable, KTable

        op = "outer_join" if outer else "left_join" if left else "join"
        if isinstance(other, KStream):
            if second is None:
                raise TopologyError(f"KStream.{op}(KStream) needs JoinWindows, e.g. "
                                    "JoinWindows.of_time_difference_with_no_grace(timedelta(minutes=5)).")
            return joins.stream_stream_join(self, other, first, second, third, left, outer)
        if isinstance(other, KTable):
            return joins.stream_table_join(self, other, first, second, left)
        if isinstance(other, GlobalKTable):
            return joins.stream_global_table_join(self, other, first, second, named_of(third), left)
        raise TopologyError(f"KStream.{op}: expected a KStream, KTable or GlobalKTable, got {other!r}.")

