"""Windowed aggregations and suppress in the DSL, with Kafka's node/store naming (TimeWindowedKStreamImpl,
KTableImpl.suppress). Nodes are data only; the compiler side (pystreams.compiler.extensions) registers the
functions that turn them into processors and stores (the dsl layer may not import the compiler).

    counts = stream.group_by_key().windowed_by(TimeWindows.of_size_and_grace(60_000, 10_000)).count()
    counts.suppress(Suppressed.until_window_closes(BufferConfig.unbounded())).to_stream().to("out")
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from pystreams.dsl import arity
from pystreams.dsl.options import Materialized, Named, named_of
from pystreams.dsl.repartition import repartition_node
from pystreams.dsl.windows import EmitStrategy, SessionWindows, SlidingWindows, Suppressed, TimeWindows
from pystreams.errors import TopologyError
from pystreams.graph import GraphNode, StoreSpec
from pystreams.serdes.windowed import SessionWindowedSerde, TimeWindowedSerde

if TYPE_CHECKING:
    from pystreams.dsl.grouped import KGroupedStream
    from pystreams.dsl.ktable import KTable

AGGREGATE_NAME = "KSTREAM-AGGREGATE-"
REDUCE_NAME = "KSTREAM-REDUCE-"
SUPPRESS_NAME = "KTABLE-SUPPRESS-"

# kind -> (replay(node, compiler), write(node, compiler)); filled by pystreams.compiler.extensions
_WRITERS: dict[str, tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]]] = {}


def register_writer(kind: str, replay: Callable[[Any, Any], None], write: Callable[[Any, Any], None]) -> None:
    """Called by the compiler side: how to replay (create suppliers) and write one node kind."""
    _WRITERS[kind] = (replay, write)


def _writer(kind: str) -> tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]]:
    try:
        return _WRITERS[kind]
    except KeyError:
        raise TopologyError(f"The compiler has no writer for {kind} nodes: import pystreams (or "
                            "pystreams.compiler.extensions) before building the topology.") from None


class ExtensionNode(GraphNode):
    """Mixin: a node compiled by a registered writer (replay in DSL order, then write)."""

    def replay_tables(self, compiler: Any) -> None:
        _writer(type(self).__name__)[0](self, compiler)

    def write_to_topology(self, compiler: Any) -> None:
        _writer(type(self).__name__)[1](self, compiler)


@dataclass(frozen=True, eq=False)
class WindowedAggregateNode(ExtensionNode):
    """windowed_by(...).count/reduce/aggregate: a window (or session) aggregate owning a window store."""

    op: str = ""
    windows: Any = None
    emit_strategy: EmitStrategy = EmitStrategy.ON_WINDOW_UPDATE
    store: StoreSpec | None = None
    retention_ms: int | None = None
    initializer: Any = None
    aggregator: Any = None
    reducer: Any = None
    merger: Any = None


@dataclass(frozen=True, eq=False)
class SuppressNode(ExtensionNode):
    """KTable.suppress: KTABLE-SUPPRESS-n with its buffer store."""

    suppressed: Suppressed | None = None
    store_name: str = ""
    grace_ms: int = 0
    key_serde: Any = None
    value_serde: Any = None


def _split(first: Any, second: Any) -> tuple[Materialized[Any, Any] | None, str | None]:
    materialized: Materialized[Any, Any] | None = None
    named: str | None = None
    for arg in (first, second):
        if isinstance(arg, Materialized):
            materialized = arg
        elif isinstance(arg, (Named, str)):
            named = named_of(arg)
    return materialized, named


def _long_serde() -> Any:
    from pystreams.serdes import Serdes

    return Serdes.Long()


class TimeWindowedKStream:
    """A grouped stream cut into TimeWindows or SlidingWindows: count/reduce/aggregate per key and window."""

    def __init__(self, grouped: KGroupedStream[Any, Any], windows: TimeWindows | SlidingWindows,
                 emit_strategy: EmitStrategy = EmitStrategy.ON_WINDOW_UPDATE) -> None:
        self._grouped = grouped
        self._builder = grouped._builder
        self.windows = windows
        self._emit = emit_strategy

    def emit_strategy(self, strategy: EmitStrategy) -> TimeWindowedKStream:
        """EmitStrategy.on_window_close(): one final result per window instead of every update."""
        if not isinstance(strategy, EmitStrategy):
            raise TopologyError(f"emit_strategy expects EmitStrategy.on_window_update()/on_window_close(), "
                                f"got {strategy!r}")
        return type(self)(self._grouped, self.windows, strategy)

    def _window_size(self) -> int:
        w = self.windows
        return w.size_ms if isinstance(w, TimeWindows) else w.time_difference_ms

    def count(self, materialized: Materialized[Any, int] | Named | str | None = None,
              named: Named | str | None = None) -> KTable[Any, int]:
        """Records per key and window (None keys are dropped)."""
        mat, name = _split(materialized, named)
        if mat is not None and mat.store_name is None and not isinstance(self.windows, SlidingWindows):
            # Kafka's Time/SessionWindowedKStreamImpl.count(Materialized) burns an index (sliding does not)
            self._builder.new_store_name(AGGREGATE_NAME)
        return self._do("count", name, mat or Materialized(), AGGREGATE_NAME, _long_serde())

    def reduce(self, reducer: Callable[[Any, Any], Any], materialized: Materialized[Any, Any] | Named | str | None = None,
               named: Named | str | None = None) -> KTable[Any, Any]:
        """reducer(aggregate, value) per key and window, the first value starting it."""
        arity.check(reducer, 2, "TimeWindowedKStream.reduce", "reducer(aggregate, value) -> aggregate")
        mat, name = _split(materialized, named)
        return self._do("reduce", name, mat or Materialized(), REDUCE_NAME, self._grouped.value_serde,
                        reducer=reducer)

    def aggregate(self, initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any],
                  materialized: Materialized[Any, Any] | Named | str | None = None,
                  named: Named | str | None = None) -> KTable[Any, Any]:
        """initializer() per new window, then aggregator(key, value, aggregate)."""
        arity.check(initializer, 0, "TimeWindowedKStream.aggregate", "initializer() -> aggregate")
        arity.check(aggregator, 3, "TimeWindowedKStream.aggregate", "aggregator(key, value, aggregate) -> aggregate")
        mat, name = _split(materialized, named)
        return self._do("aggregate", name, mat or Materialized(), AGGREGATE_NAME, None,
                        initializer=initializer, aggregator=aggregator)

    def _do(self, op: str, named: str | None, materialized: Materialized[Any, Any], prefix: str,
            value_default: Any, **fns: Any) -> KTable[Any, Any]:
        from pystreams.dsl.ktable import KTable

        store = self._builder.store_spec(materialized, prefix)
        if store.key_serde is None:
            store = replace(store, key_serde=self._grouped.key_serde)
        if store.value_serde is None and value_default is not None:
            store = replace(store, value_serde=value_default)
        processor = self._builder.named_or_generate(named, prefix)
        retention = getattr(materialized, "retention_ms", None)
        node = WindowedAggregateNode(processor, (), op=op, windows=self.windows, emit_strategy=self._emit,
                                     store=store, retention_ms=retention, **fns)
        self._add(node)
        key_serde = None if store.key_serde is None else self._windowed_serde(store.key_serde)
        return KTable(self._builder, processor, key_serde, store.value_serde)

    def _windowed_serde(self, inner: Any) -> Any:
        return TimeWindowedSerde(inner, self._window_size())

    def _add(self, node: WindowedAggregateNode) -> None:
        """Kafka's GroupedStreamAggregateBuilder: a repartition topic first when the key changed upstream."""
        grouped = self._grouped
        assert node.store is not None
        parent = grouped.name
        if grouped.repartition_required:
            name = getattr(grouped, "_repartition_name", None)
            existing = getattr(grouped, "_repartition", None)
            fresh = repartition_node(self._builder, grouped.name, name or node.store.name, grouped.key_serde,
                                     grouped.value_serde)
            if existing is None or name is None:
                grouped._repartition = existing = fresh
                self._builder.add_node(fresh)
            else:
                self._builder.add_again(existing.name)
            parent = existing.name
        self._builder.add_node(replace(node, parents=(parent,)))


class SessionWindowedKStream(TimeWindowedKStream):
    """A grouped stream cut into sessions; aggregate() takes a merger(key, agg1, agg2) for merged sessions."""

    def _windowed_serde(self, inner: Any) -> Any:
        return SessionWindowedSerde(inner)

    def aggregate(self, initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any],  # type: ignore[override]
                  merger: Callable[[Any, Any, Any], Any] | None = None,
                  materialized: Materialized[Any, Any] | Named | str | None = None,
                  named: Named | str | None = None) -> KTable[Any, Any]:
        if merger is None:
            raise TopologyError("SessionWindowedKStream.aggregate needs merger(key, aggregate1, aggregate2): "
                                "sessions merge when a record bridges them")
        arity.check(merger, 3, "SessionWindowedKStream.aggregate", "merger(key, agg1, agg2) -> aggregate")
        mat, name = _split(materialized, named)
        return self._do("aggregate", name, mat or Materialized(), AGGREGATE_NAME, None,
                        initializer=initializer, aggregator=aggregator, merger=merger)


def windowed_by(grouped: KGroupedStream[Any, Any], windows: Any) -> TimeWindowedKStream:
    """KGroupedStream.windowed_by: TimeWindows / SlidingWindows -> TimeWindowedKStream, SessionWindows ->
    SessionWindowedKStream."""
    if isinstance(windows, SessionWindows):
        return SessionWindowedKStream(grouped, windows)  # type: ignore[arg-type]
    if isinstance(windows, (TimeWindows, SlidingWindows)):
        return TimeWindowedKStream(grouped, windows)
    raise TopologyError(f"windowed_by expects TimeWindows, SlidingWindows or SessionWindows, got {windows!r}")


def _window_grace(builder: Any, name: str, chain: list[str]) -> int:
    """Kafka's findAndVerifyWindowGrace: walk up single-parent nodes to the windowed aggregate."""
    node = builder.node(name)
    chain.append(name)
    if isinstance(node, WindowedAggregateNode):
        windows = node.windows
        if isinstance(windows, SessionWindows):
            return windows.gap_ms + windows.grace_ms
        return int(windows.grace_ms)
    if len(node.parents) == 1:
        return _window_grace(builder, node.parents[0], chain)
    raise TopologyError(f"Window close time is only defined for windowed computations. Got [{'->'.join(chain)}].")


def suppress(table: KTable[Any, Any], suppressed: Suppressed) -> KTable[Any, Any]:
    """KTable.suppress: hold updates (Kafka's naming: KTABLE-SUPPRESS-n + KTABLE-SUPPRESS-STATE-STORE-m)."""
    from pystreams.dsl.ktable import KTable

    if not isinstance(suppressed, Suppressed):
        raise TopologyError(f"suppress expects Suppressed.until_window_closes(...) or until_time_limit(...), "
                            f"got {suppressed!r}")
    builder = table._builder
    name = suppressed.name or builder.new_processor_name(SUPPRESS_NAME)
    store_name = f"{suppressed.name}-store" if suppressed.name else builder.new_store_name(SUPPRESS_NAME)
    grace = _window_grace(builder, table.name, []) if suppressed.final_results_only else 0
    builder.add_node(SuppressNode(name, (table.name,), suppressed=suppressed, store_name=store_name,
                                  grace_ms=grace, key_serde=table.key_serde, value_serde=table.value_serde))
    return KTable(builder, name, table.key_serde, table.value_serde)
