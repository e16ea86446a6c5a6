"""Our side of TimeWindowed.java, wired with the Processor API the way Kafka's DSL wires it (until the DSL
methods land): window aggregates -> KTABLE-TOSTREAM -> sink, suppress between aggregate and to-stream."""
from __future__ import annotations

from typing import Any

from pystreams.compiler import Topology
from pystreams.compiler.processors.stateful import KStreamAggregate
from pystreams.compiler.processors.stateful.stream_aggregate import count_aggregator, count_initializer
from pystreams.compiler.processors.stateful.table_to_stream import KTableToStream
from pystreams.compiler.processors.windowed import KStreamWindowAggregate, KTableSuppressProcessorSupplier
from pystreams.dsl.windows import BufferConfig, EmitStrategy, Suppressed, TimeWindows
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes
from pystreams.state import Stores
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    timestamped_window_store_builder)


def _reduce(reducer: Any) -> Any:
    return lambda key, value, agg: value if agg is None else reducer(agg, value)


def _last_digits(key: Any, value: Any, agg: str) -> str:
    nxt = agg + ("n" if value is None else str(value % 10))
    return nxt[-6:]


def _java_long_sum(a: Any, b: Any) -> Any:
    if a is None or b is None:  # Long::sum on a null unboxes and throws in Java; inputs avoid it
        raise TypeError("null in Long::sum")
    return a + b


def time_windowed(persistent: bool = False) -> Topology:
    """TimeWindowed.java; persistent=True uses RocksDB segmented stores (outputs must not change)."""
    s, lng = Serdes.String(), Serdes.Long()
    t = Topology()
    t.add_source("KSTREAM-SOURCE-0000000000", "win-in", key_serde=s, value_serde=lng)
    n = [0]

    def store(name: str, windows: TimeWindows, value_serde: Any) -> Any:
        retention = windows.size_ms + windows.grace_ms
        make = persistent_timestamped_window_store if persistent else in_memory_window_store
        return timestamped_window_store_builder(make(name, retention, windows.size_ms), s, value_serde)

    def branch(windows: TimeWindows, supplier: Any, value_serde: Any, topic: str, suppressed: Suppressed | None = None,
               ) -> None:
        n[0] += 1
        agg, store_name = f"AGG-{n[0]}", f"AGG-STORE-{n[0]}"
        t.add_processor(agg, supplier, "KSTREAM-SOURCE-0000000000")
        t.add_state_store(store(store_name, windows, value_serde), agg)
        parent = agg
        key_serde = WindowedSerdes.time_windowed_serde_from(s, windows.size_ms)
        if suppressed is not None:
            sup = KTableSuppressProcessorSupplier(suppressed, f"SUPPRESS-STORE-{n[0]}", None, windows.grace_ms,
                                                  key_serde, value_serde)
            supplier.enable_sending_old_values()
            t.add_processor(f"SUPPRESS-{n[0]}", sup, agg)
            parent = f"SUPPRESS-{n[0]}"
        t.add_processor(f"TOSTREAM-{n[0]}", KTableToStream(), parent)
        t.add_sink(f"SINK-{n[0]}", topic, f"TOSTREAM-{n[0]}", key_serde=key_serde, value_serde=value_serde)

    tumbling = TimeWindows.of_size_and_grace(100, 50)
    branch(tumbling, KStreamWindowAggregate(tumbling, "AGG-STORE-1", count_initializer, count_aggregator), lng,
           "out-tumbling")
    hopping = TimeWindows.of_size_and_grace(100, 20).advance_by(30)
    branch(hopping, KStreamWindowAggregate(hopping, "AGG-STORE-2", lambda: None, _reduce(_java_long_sum)), lng,
           "out-hopping")
    small = TimeWindows.of_size_with_no_grace(50)
    branch(small, KStreamWindowAggregate(small, "AGG-STORE-3", lambda: "", _last_digits), s, "out-agg")
    final = TimeWindows.of_size_and_grace(100, 30)
    branch(final, KStreamWindowAggregate(final, "AGG-STORE-4", count_initializer, count_aggregator), lng,
           "out-final", Suppressed.until_window_closes(BufferConfig.unbounded()))
    emit = TimeWindows.of_size_and_grace(80, 10)
    branch(emit, KStreamWindowAggregate(emit, "AGG-STORE-5", count_initializer, count_aggregator,
                                        EmitStrategy.on_window_close()), lng, "out-emit")
    # non-windowed count suppressed until a time limit
    count = KStreamAggregate("COUNT-STORE", count_initializer, count_aggregator)
    count.enable_sending_old_values()
    t.add_processor("COUNT", count, "KSTREAM-SOURCE-0000000000")
    t.add_state_store(Stores.timestamped_key_value_store_builder(
        Stores.in_memory_key_value_store("COUNT-STORE"), s, lng).with_caching_enabled(), "COUNT")
    t.add_processor("LIMIT", KTableSuppressProcessorSupplier(
        Suppressed.until_time_limit(50, BufferConfig.max_records(5).emit_early_when_full()), "LIMIT-STORE",
        None, 0, s, lng), "COUNT")
    t.add_processor("LIMIT-TOSTREAM", KTableToStream(), "LIMIT")
    t.add_sink("LIMIT-SINK", "out-limit", "LIMIT-TOSTREAM", key_serde=s, value_serde=lng)
    return t


def time_windowed_outputs() -> list[tuple[str, Any, Any]]:
    s, lng = Serdes.String(), Serdes.Long()
    ws = WindowedSerdes.time_windowed_serde_from
    return [("out-tumbling", ws(s, 100), lng), ("out-hopping", ws(s, 100), lng), ("out-agg", ws(s, 50), s),
            ("out-final", ws(s, 100), lng), ("out-emit", ws(s, 80), lng), ("out-limit", s, lng)]
