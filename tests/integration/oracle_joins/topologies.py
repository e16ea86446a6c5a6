"""Our side of StreamJoins.java, wired with the Processor API the way Kafka's DSL wires joins (until the DSL
methods land): per stream-stream join, each side -> KSTREAM-WINDOWED (its window store) -> its join node
(reads the other side's store) -> one merge node -> sink; stream-table joins read the table's store through
its value getter; stream-globaltable joins read the global store with a key selector."""
from __future__ import annotations

from typing import Any

from pystreams.compiler import Topology
from pystreams.compiler.processors.joins import (KStreamGlobalKTableJoin, KStreamJoinWindow, KStreamKStreamJoin,
                                                 KStreamKTableJoin, OuterJoinStoreBuilder, TimeTrackerSupplier)
from pystreams.compiler.processors.stateful.table_source import KTableSource
from pystreams.compiler.processors.stateful.value_getters import KTableSourceValueGetterSupplier
from pystreams.dsl.windows import JoinWindows
from pystreams.processor import Processor, Record
from pystreams.serdes import Serdes
from pystreams.state import Stores
from pystreams.state.window import in_memory_window_store, persistent_window_store, window_store_builder


def _java(value: Any) -> str:
    return "null" if value is None else str(value)


def joiner(key: Any, left: Any, right: Any) -> str:
    return f"{_java(key)}|{_java(left)}|{_java(right)}"


class _PassThrough(Processor[Any, Any, Any, Any]):
    """Kafka's KStreamPassThrough (the merge node)."""

    def init(self, context: Any) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        self.context.forward(record)


def stream_joins(persistent: bool = False) -> Topology:
    s, lng = Serdes.String(), Serdes.Long()
    t = Topology()
    t.add_source("LEFT", "left", key_serde=s, value_serde=lng)
    t.add_source("RIGHT", "right", key_serde=s, value_serde=lng)

    def window_store(name: str, windows: JoinWindows) -> Any:
        make = persistent_window_store if persistent else in_memory_window_store
        return window_store_builder(make(name, windows.size() + windows.grace_ms, windows.size(), True), s, lng)

    def stream_stream(tag: str, windows: JoinWindows, left_outer: bool, right_outer: bool, topic: str) -> None:
        this_store, other_store = f"{tag}-THIS-STORE", f"{tag}-OTHER-STORE"
        t.add_processor(f"{tag}-WINDOWED-THIS", KStreamJoinWindow(this_store), "LEFT")
        t.add_processor(f"{tag}-WINDOWED-OTHER", KStreamJoinWindow(other_store), "RIGHT")
        t.add_state_store(window_store(this_store, windows), f"{tag}-WINDOWED-THIS")
        t.add_state_store(window_store(other_store, windows), f"{tag}-WINDOWED-OTHER")
        outer_store = f"{tag}-SHARED-STORE" if (left_outer or right_outer) else None
        tracker = TimeTrackerSupplier()
        t.add_processor(f"{tag}-JOINTHIS", KStreamKStreamJoin(True, other_store, windows, joiner, left_outer,
                                                              outer_store, tracker), f"{tag}-WINDOWED-THIS")
        t.add_processor(f"{tag}-JOINOTHER", KStreamKStreamJoin(False, this_store, windows,
                                                               lambda k, r, lft: joiner(k, lft, r), right_outer,
                                                               outer_store, tracker), f"{tag}-WINDOWED-OTHER")
        t.connect_processor_and_state_stores(f"{tag}-JOINTHIS", other_store)
        t.connect_processor_and_state_stores(f"{tag}-JOINOTHER", this_store)
        if outer_store is not None:
            t.add_state_store(OuterJoinStoreBuilder(outer_store, persistent, s, lng, lng),
                              f"{tag}-JOINTHIS", f"{tag}-JOINOTHER")
        t.add_processor(f"{tag}-MERGE", _PassThrough, f"{tag}-JOINTHIS", f"{tag}-JOINOTHER")
        t.add_sink(f"{tag}-SINK", topic, f"{tag}-MERGE", key_serde=s, value_serde=s)

    stream_stream("INNER", JoinWindows.of_time_difference_and_grace(50, 20), False, False, "out-inner")
    stream_stream("LEFTJ", JoinWindows.of_time_difference_and_grace(30, 10).after(60), True, False, "out-left")
    stream_stream("OUTER", JoinWindows.of_time_difference_with_no_grace(25), True, True, "out-outer")

    # stream-table
    table = KTableSource("TABLE-STORE", "TABLE-STORE")
    t.add_source("TABLE-SOURCE", "table", key_serde=s, value_serde=lng)
    t.add_processor("TABLE", table, "TABLE-SOURCE")
    t.add_state_store(Stores.timestamped_key_value_store_builder(Stores.in_memory_key_value_store("TABLE-STORE"),
                                                                 s, lng).with_caching_enabled(), "TABLE")
    for tag, left, topic in (("ST-INNER", False, "out-st-inner"), ("ST-LEFT", True, "out-st-left")):
        supplier = KStreamKTableJoin(KTableSourceValueGetterSupplier("TABLE-STORE"), joiner, left)
        t.add_processor(tag, supplier, "LEFT")
        t.connect_processor_and_state_stores(tag, *supplier.store_names())
        t.add_sink(f"{tag}-SINK", topic, tag, key_serde=s, value_serde=s)

    # stream-globaltable with a key selector
    gstore = Stores.timestamped_key_value_store_builder(Stores.in_memory_key_value_store("GTABLE-STORE"), s, lng)
    gstore.with_logging_disabled()
    t.add_global_store(gstore, "GTABLE-SOURCE", "gtable", "GTABLE", KTableSource("GTABLE-STORE", "GTABLE-STORE"),
                       key_serde=s, value_serde=lng)

    def selector(key: Any, value: Any) -> Any:
        return None if key is None else key[0] + "0"

    for tag, left, topic in (("SG-INNER", False, "out-sg-inner"), ("SG-LEFT", True, "out-sg-left")):
        t.add_processor(tag, KStreamGlobalKTableJoin(KTableSourceValueGetterSupplier("GTABLE-STORE"), joiner, left,
                                                     selector), "LEFT")
        t.add_sink(f"{tag}-SINK", topic, tag, key_serde=s, value_serde=s)
    return t


OUTPUTS = ["out-inner", "out-left", "out-outer", "out-st-inner", "out-st-left", "out-sg-inner", "out-sg-left"]
