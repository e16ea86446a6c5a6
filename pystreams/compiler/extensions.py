"""Compiler side of issue 5's DSL nodes (pystreams.dsl.windowed / pystreams.dsl.joins): how each node becomes
suppliers (replay, in DSL call order) and processors/stores (write, in Kafka's write order). Importing this
module registers the writers with the DSL (the dsl layer may not import the compiler)."""
from __future__ import annotations

from typing import Any

from pystreams.compiler.processors.stateful import KTableHandle
from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.compiler.processors.windowed import KStreamWindowAggregate, KTableSuppressProcessorSupplier
from pystreams.compiler.processors.windowed.suppress_buffer import SuppressionBufferBuilder
from pystreams.dsl import windowed as dw
from pystreams.compiler.processors.windowed.sliding_aggregate import KStreamSlidingWindowAggregate
from pystreams.compiler.processors.windowed.session_aggregate import KStreamSessionWindowAggregate
from pystreams.dsl.windows import EmitStrategy, SessionWindows, SlidingWindows, TimeWindows
from pystreams.errors import ConfigError, TopologyError
from pystreams.graph import StoreSpec
from pystreams.state.session import in_memory_session_store, persistent_session_store
from pystreams.state.session import session_store_builder as ss_builder
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    timestamped_window_store_builder)


def _reduce_initializer() -> Any:
    return None


def _reduce_aggregator(reducer: Any) -> Any:
    def aggregate(key: Any, value: Any, aggregate: Any) -> Any:
        return value if aggregate is None else reducer(aggregate, value)
    return aggregate


def window_store_builder(spec: StoreSpec, windows: Any, retention_ms: int | None, default_store_type: str,
                         emit_final: bool = False) -> Any:
    """Kafka's WindowStoreMaterializer: a timestamped window store of retention (default size + grace)."""
    if isinstance(windows, TimeWindows):
        size, default_retention = windows.size_ms, windows.size_ms + windows.grace_ms
    elif isinstance(windows, SlidingWindows):
        size = windows.time_difference_ms
        default_retention = 2 * windows.time_difference_ms + windows.grace_ms
    else:
        raise TopologyError(f"no window store for {windows!r}")
    retention = default_retention if retention_ms is None else retention_ms
    if size + windows.grace_ms > retention and isinstance(windows, TimeWindows):
        raise TopologyError(f"The retention period of the window store {spec.name} must be no smaller than its "
                            f"window size plus the grace period. Got size=[{size}], grace=[{windows.grace_ms}], "
                            f"retention=[{retention}]")
    store_type = (spec.store_type or default_store_type).lower().replace("_", "")
    if spec.supplier is not None:
        supplier = spec.supplier
    elif store_type == "inmemory":
        supplier = in_memory_window_store(spec.name, retention, size)
    elif store_type == "rocksdb":
        supplier = persistent_timestamped_window_store(spec.name, retention, size)
        supplier.time_ordered = emit_final  # Kafka materializes emit-final aggregates in a time-ordered store
    else:
        raise ConfigError(f"Unknown store type {spec.store_type or default_store_type!r} for store {spec.name}: "
                          "use 'rocks_db' or 'in_memory' (default.dsl.store).")
    builder = timestamped_window_store_builder(supplier, spec.key_serde, spec.value_serde)
    if spec.logging_enabled:
        builder.with_logging_enabled(dict(spec.log_config))
    else:
        builder.with_logging_disabled()
    # Kafka's SlidingWindowStoreMaterializer: no cache under emit-final (its cache would still show windows the
    # store's retention already hides from the emit scan); time windows keep theirs
    if spec.caching_enabled and not (emit_final and isinstance(windows, SlidingWindows)):
        builder.with_caching_enabled()
    return builder


def session_store_builder(spec: StoreSpec, windows: SessionWindows, retention_ms: int | None,
                          default_store_type: str, emit_final: bool = False) -> Any:
    """Kafka's SessionStoreMaterializer: retention defaults to gap + grace."""
    retention = windows.gap_ms + windows.grace_ms if retention_ms is None else retention_ms
    if windows.gap_ms + windows.grace_ms > retention:
        raise TopologyError(f"The retention period of the session store {spec.name} must be no smaller than the "
                            f"session inactivity gap plus the grace period. Got gap=[{windows.gap_ms}], "
                            f"grace=[{windows.grace_ms}], retention=[{retention}]")
    store_type = (spec.store_type or default_store_type).lower().replace("_", "")
    if spec.supplier is not None:
        supplier = spec.supplier
    elif store_type == "inmemory":
        supplier = in_memory_session_store(spec.name, retention)
    elif store_type == "rocksdb":
        supplier = persistent_session_store(spec.name, retention)
    else:
        raise ConfigError(f"Unknown store type {spec.store_type or default_store_type!r} for store {spec.name}: "
                          "use 'rocks_db' or 'in_memory' (default.dsl.store).")
    builder = ss_builder(supplier, spec.key_serde, spec.value_serde)
    if spec.logging_enabled:
        builder.with_logging_enabled(dict(spec.log_config))
    else:
        builder.with_logging_disabled()
    if spec.caching_enabled and not emit_final:  # Kafka: no cache for emit-final session stores
        builder.with_caching_enabled()
    return builder


def _replay_session_aggregate(node: dw.WindowedAggregateNode, compiler: Any) -> None:
    assert node.store is not None
    if node.op == "count":
        init, agg = count_initializer, count_aggregator

        def merger(key: Any, one: Any, two: Any) -> Any:
            return one + two
    elif node.op == "reduce":
        init, agg = _reduce_initializer, _reduce_aggregator(node.reducer)
        aggregate = agg

        def merger(key: Any, one: Any, two: Any) -> Any:
            return aggregate(key, two, one)
    else:
        init, agg, merger = node.initializer, node.aggregator, node.merger
    supplier = KStreamSessionWindowAggregate(node.windows, node.store.name, init, agg, merger, node.emit_strategy)
    compiler.suppliers[node.name] = supplier
    compiler.handles[node.name] = KTableHandle(supplier, node.name)


def _replay_window_aggregate(node: dw.WindowedAggregateNode, compiler: Any) -> None:
    assert node.store is not None
    if isinstance(node.windows, SessionWindows):
        _replay_session_aggregate(node, compiler)
        return
    if not isinstance(node.windows, (TimeWindows, SlidingWindows)):
        raise TopologyError(f"{node.name}: cannot aggregate over {node.windows!r}")
    if node.op == "count":
        init, agg = count_initializer, count_aggregator
    elif node.op == "reduce":
        init, agg = _reduce_initializer, _reduce_aggregator(node.reducer)
    else:
        init, agg = node.initializer, node.aggregator
    supplier: Any
    if isinstance(node.windows, SlidingWindows):
        supplier = KStreamSlidingWindowAggregate(node.windows, node.store.name, init, agg, node.emit_strategy)
    else:
        supplier = KStreamWindowAggregate(node.windows, node.store.name, init, agg, node.emit_strategy)
    compiler.suppliers[node.name] = supplier
    compiler.handles[node.name] = KTableHandle(supplier, node.name)


def _write_window_aggregate(node: dw.WindowedAggregateNode, compiler: Any) -> None:
    assert node.store is not None
    t = compiler.topology
    t.add_processor(node.name, compiler.suppliers[node.name], *node.parents)
    if isinstance(node.windows, SessionWindows):
        builder = session_store_builder(node.store, node.windows, node.retention_ms, compiler.default_store_type,
                                        node.emit_strategy is EmitStrategy.ON_WINDOW_CLOSE)
    else:
        builder = window_store_builder(node.store, node.windows, node.retention_ms, compiler.default_store_type,
                                       node.emit_strategy is EmitStrategy.ON_WINDOW_CLOSE)
    t.add_state_store(builder, node.name)
    compiler.explain(node.name, f"windowed_by(...).{node.op}()",
                     "Materialized(key_serde=..., value_serde=...) to the windowed aggregation")


def _replay_suppress(node: dw.SuppressNode, compiler: Any) -> None:
    assert node.suppressed is not None
    parent = compiler.handle(node.parents[0])
    supplier = KTableSuppressProcessorSupplier(node.suppressed, node.store_name, parent, node.grace_ms,
                                               node.key_serde, node.value_serde)
    compiler.suppliers[node.name] = supplier
    compiler.handles[node.name] = KTableHandle(supplier, node.name)


def _write_suppress(node: dw.SuppressNode, compiler: Any) -> None:
    t = compiler.topology
    t.add_processor(node.name, compiler.suppliers[node.name], *node.parents)
    t.add_state_store(SuppressionBufferBuilder(node.store_name, node.key_serde, node.value_serde), node.name)


dw.register_writer("WindowedAggregateNode", _replay_window_aggregate, _write_window_aggregate)
dw.register_writer("SuppressNode", _replay_suppress, _write_suppress)

from pystreams.compiler import join_extensions  # noqa: E402,F401  (registers the join writers)
