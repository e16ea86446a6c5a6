"""Compiler side of the join nodes of pystreams.dsl.joins: suppliers in DSL order, processors and stores in
Kafka's write order (StreamStreamJoinNode / StreamTableJoinNode.writeToTopology)."""
from __future__ import annotations

from typing import Any

from pystreams.compiler import copartition
from pystreams.compiler.processors import stateless as sl
from pystreams.compiler.processors.joins import (KStreamGlobalKTableJoin, KStreamJoinWindow, KStreamKStreamJoin,
                                                 KStreamKTableJoin, OuterJoinStoreBuilder, TimeTrackerSupplier)
from pystreams.compiler.processors.stateful.value_getters import KTableSourceValueGetterSupplier
from pystreams.dsl import joins as dj
from pystreams.dsl import windowed as dw
from pystreams.errors import ConfigError
from pystreams.state.window import in_memory_window_store, persistent_window_store, window_store_builder


def _persistent(compiler: Any) -> bool:
    store_type = str(compiler.default_store_type).lower().replace("_", "")
    if store_type not in ("rocksdb", "inmemory"):
        raise ConfigError(f"Unknown store type {compiler.default_store_type!r}: use 'rocks_db' or 'in_memory' "
                          "(default.dsl.store).")
    return store_type == "rocksdb"


def _replay_windowed(node: dj.JoinWindowedNode, compiler: Any) -> None:
    compiler.suppliers[node.name] = KStreamJoinWindow(node.store_name)


def _write_windowed(node: dj.JoinWindowedNode, compiler: Any) -> None:
    compiler.topology.add_processor(node.name, compiler.suppliers[node.name], *node.parents)


def _replay_stream_stream(node: dj.StreamStreamJoinNode, compiler: Any) -> None:
    assert node.windows is not None
    tracker = TimeTrackerSupplier()
    joiner = node.joiner

    def reverse(key: Any, other_value: Any, value: Any) -> Any:
        return joiner(key, value, other_value)

    compiler.suppliers[node.this_name] = KStreamKStreamJoin(True, node.other_store, node.windows, joiner,
                                                            node.left_outer, node.outer_store, tracker)
    compiler.suppliers[node.other_name] = KStreamKStreamJoin(False, node.this_store, node.windows, reverse,
                                                             node.right_outer, node.outer_store, tracker)
    compiler.suppliers[node.name] = sl.PassThrough()


def _join_store(node: dj.StreamStreamJoinNode, name: str, value_serde: Any, persistent: bool) -> Any:
    assert node.windows is not None
    size = node.windows.size()
    make = persistent_window_store if persistent else in_memory_window_store
    builder = window_store_builder(make(name, size + node.windows.grace_ms, size, True), node.key_serde, value_serde)
    if not node.logging_enabled:
        builder.with_logging_disabled()
    return builder


def _write_stream_stream(node: dj.StreamStreamJoinNode, compiler: Any) -> None:
    t = compiler.topology
    this_windowed, other_windowed = node.parents
    persistent = _persistent(compiler)
    t.add_processor(node.this_name, compiler.suppliers[node.this_name], this_windowed)
    t.add_processor(node.other_name, compiler.suppliers[node.other_name], other_windowed)
    t.add_processor(node.name, compiler.suppliers[node.name], node.this_name, node.other_name)
    t.add_state_store(_join_store(node, node.this_store, node.this_value_serde, persistent), this_windowed,
                      node.other_name)
    t.add_state_store(_join_store(node, node.other_store, node.other_value_serde, persistent), other_windowed,
                      node.this_name)
    if node.outer_store is not None:
        outer = OuterJoinStoreBuilder(node.outer_store, persistent, node.key_serde, node.this_value_serde,
                                      node.other_value_serde)
        if not node.logging_enabled:
            outer.with_logging_disabled()
        t.add_state_store(outer, node.this_name, node.other_name)
    copartition.register(compiler, this_windowed, other_windowed)
    fix = "StreamJoined.with_(key_serde, value_serde, other_value_serde) to the join"
    for name in (node.this_name, node.other_name):
        compiler.explain(name, "KStream.join(KStream)", fix)


def _replay_stream_table(node: dj.StreamTableJoinNode, compiler: Any) -> None:
    if node.global_store is not None:
        getter = KTableSourceValueGetterSupplier(node.global_store)
        compiler.suppliers[node.name] = KStreamGlobalKTableJoin(getter, node.joiner, node.left_join,
                                                                node.key_selector)
    else:
        getter = compiler.handle(node.table).value_getter_supplier()
        compiler.suppliers[node.name] = KStreamKTableJoin(getter, node.joiner, node.left_join)


def _write_stream_table(node: dj.StreamTableJoinNode, compiler: Any) -> None:
    t = compiler.topology
    supplier = compiler.suppliers[node.name]
    t.add_processor(node.name, supplier, *node.parents)
    if node.global_store is None:
        t.connect_processor_and_state_stores(node.name, *supplier.store_names())
        copartition.register(compiler, node.parents[0], node.table)


dw.register_writer("JoinWindowedNode", _replay_windowed, _write_windowed)
dw.register_writer("StreamStreamJoinNode", _replay_stream_stream, _write_stream_stream)
dw.register_writer("StreamTableJoinNode", _replay_stream_table, _write_stream_table)


def _replay_table_table(node: dj.TableTableJoinNode, compiler: Any) -> None:
    from pystreams.compiler.processors.joins.table_table import (INNER, LEFT, OUTER, RIGHT, KTableKTableJoin,
                                                                 KTableKTableJoinMerger)
    from pystreams.compiler.processors.stateful import KTableHandle

    this_table, other_table = node.parents
    this, other = compiler.handle(this_table), compiler.handle(other_table)
    if node.left_outer:
        this.enable_sending_old_values(True)
    if node.right_outer:
        other.enable_sending_old_values(True)
    kinds = (OUTER, OUTER) if node.right_outer else (LEFT, RIGHT) if node.left_outer else (INNER, INNER)
    joiner = node.joiner

    def reverse(value: Any, other_value: Any) -> Any:
        return joiner(other_value, value)

    join_this = KTableKTableJoin(kinds[0], this, other, joiner)
    join_other = KTableKTableJoin(kinds[1], other, this, reverse)
    merger = KTableKTableJoinMerger(join_this, join_other, node.store.name if node.store is not None else None)
    compiler.suppliers[node.this_name] = join_this
    compiler.suppliers[node.other_name] = join_other
    compiler.suppliers[node.name] = merger
    compiler.handles[node.name] = KTableHandle(merger, node.name)


def _write_table_table(node: dj.TableTableJoinNode, compiler: Any) -> None:
    t = compiler.topology
    this_table, other_table = node.parents
    join_this, join_other = compiler.suppliers[node.this_name], compiler.suppliers[node.other_name]
    t.add_processor(node.this_name, join_this, this_table)
    t.add_processor(node.other_name, join_other, other_table)
    t.add_processor(node.name, compiler.suppliers[node.name], node.this_name, node.other_name)
    t.connect_processor_and_state_stores(node.this_name, *join_this.store_names())
    t.connect_processor_and_state_stores(node.other_name, *join_other.store_names())
    copartition.register(compiler, this_table, other_table)
    if node.store is not None:
        t.add_state_store(compiler.store_builder(node.store), node.name)


dw.register_writer("TableTableJoinNode", _replay_table_table, _write_table_table)
