"""Kafka's ProcessorMetadata for emit-final windowed aggregates (KIP-825): the last emitted window-close time is put
in the task's processor metadata under the store name, committed with every input partition's offset metadata
(TopicPartitionMetadata magic 2) and restored before the processor's first emit decision, so a restart over the
same local store does not emit closed windows a second time."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import pystreams.testing.driver as drv
from pystreams import Materialized, Produced, Serdes, StreamsBuilder, Stores
from pystreams.dsl.windows import EmitStrategy, SessionWindows, TimeWindows
from pystreams.runtime.offset_metadata import decode, encode
from pystreams.runtime.thread_commit import _offset_metadata
from pystreams.testing.driver import TopologyTestDriver

pytestmark = pytest.mark.unit


def _time_windows() -> Any:
    b = StreamsBuilder()
    (b.stream("in").group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(100))
     .emit_strategy(EmitStrategy.on_window_close())
     .count(Materialized.as_(Stores.persistent_timestamped_window_store("counts", 3_600_000, 100)))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.window.start}", v))
     .to("out", Produced.with_(Serdes.String(), Serdes.Long())))
    return b.build()


def _sessions() -> Any:
    b = StreamsBuilder()
    (b.stream("in").group_by_key().windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(50))
     .emit_strategy(EmitStrategy.on_window_close())
     .count(Materialized.as_("sessions"))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.window.start}-{k.window.end}", v))
     .to("out", Produced.with_(Serdes.String(), Serdes.Long())))
    return b.build()


def _run(topology: Any, cfg: dict[str, Any], stamps: list[int], restored: str | None) -> tuple[list[Any], str]:
    """One app run: restore the committed metadata (as tasks.create_task does), pipe, read, and return what a
    commit of the input partition would carry (thread_commit._offset_metadata)."""
    d = TopologyTestDriver(topology, cfg)
    try:
        assert d.task is not None
        if restored is not None:
            d.task.initialize_partition_times({("in", 0): restored})
        i = d.create_input_topic("in", Serdes.String(), Serdes.String())
        o = d.create_output_topic("out", Serdes.String(), Serdes.Long())
        for ts in stamps:
            i.pipe_input("k", "v", timestamp=ts)
        return o.read_key_values_to_list(), _offset_metadata(SimpleNamespace(task=d.task), "in", 0)  # type: ignore[arg-type]
    finally:
        d.close()


@pytest.fixture
def cfg(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(drv.shutil, "rmtree", lambda *a, **k: None)  # a restart keeps the local state
    return {"application.id": "emit-final-md", "bootstrap.servers": "x:1", "state.dir": str(tmp_path),
            "default.key.serde": Serdes.String(), "default.value.serde": Serdes.String(),
            "__emit.interval.ms.kstreams.windowed.aggregation__": 0}


def test_time_windows_commit_the_close_time_under_the_store_name_and_do_not_reemit(cfg: dict[str, Any]) -> None:
    first, committed = _run(_time_windows(), cfg, [0, 10, 150], None)
    assert first == [("k@0", 2)]
    md = decode(committed)
    assert md.partition_time == 150
    assert md.processor_metadata == {"counts": 150}  # Kafka's key: the store name; value: the close time
    second, committed2 = _run(_time_windows(), cfg, [260], committed)
    assert second == [("k@100", 1)]  # window [100,200) closes at 200; [0,100) is not emitted again
    assert decode(committed2).processor_metadata == {"counts": 260}


def test_without_the_restored_metadata_the_store_would_reemit(cfg: dict[str, Any]) -> None:
    """The negative control: the same restart with no committed metadata emits [0,100) again."""
    _run(_time_windows(), cfg, [0, 10, 150], None)
    second, _ = _run(_time_windows(), cfg, [260], None)
    assert ("k@0", 2) in second


def test_session_windows_restore_their_close_time(cfg: dict[str, Any]) -> None:
    first, committed = _run(_sessions(), cfg, [0, 10, 200], None)
    assert first == [("k@0-10", 2)]
    assert decode(committed).processor_metadata == {"sessions": 150}  # stream time - gap
    second, _ = _run(_sessions(), cfg, [400], committed)
    assert second == [("k@200-200", 1)]


def test_tasks_without_emit_final_commit_no_entries(cfg: dict[str, Any]) -> None:
    b = StreamsBuilder()
    (b.stream("in").group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(100)).count()
     .to_stream().map(lambda k, v: (k.key, v)).to("out", Produced.with_(Serdes.String(), Serdes.Long())))
    _, committed = _run(b.build(), cfg, [0, 150], None)
    assert committed == encode(150)  # magic 2 + partition time only: 12 base64 chars, as before
    assert decode(committed).processor_metadata == {}


def test_restore_keeps_the_largest_value_over_the_input_partitions() -> None:
    from pystreams.processor.internals.task import StreamTask
    task = StreamTask.__new__(StreamTask)
    task.processor_metadata, task._seeded_times, task._queues, task.stream_time = {}, {}, {}, -1
    task.source_for = lambda topic: None  # type: ignore[method-assign]
    task.initialize_partition_times({("a", 0): encode(5, {"s": 100}), ("b", 0): encode(7, {"s": 300, "t": 1}),
                                     ("c", 0): encode(9, {"s": 200}), ("d", 0): ""})
    assert task.processor_metadata == {"s": 300, "t": 1}
    assert task.stream_time == 9
