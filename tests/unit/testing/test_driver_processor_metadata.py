"""Emit-final windowed aggregates through the TopologyTestDriver (Kafka's ProcessorMetadata, KIP-825).

Kafka's driver keeps the task's processor metadata (the last emitted window-close time, under the store name) in its
one task for the driver's life; it commits it only to its MockConsumer, which dies with the driver, and close() wipes
the state directory (StateDirectory.clean()). So a driver re-created over the same state.dir starts from empty stores
AND empty metadata. Checked on Kafka 4.1.1's driver (a scratch Java program, same topologies and records):
time windows print [k@0=2] then [k@0=1, k@100=1]; sessions [k@0-10=2] then [k@60-70=2]; the state dir is empty
between the two drivers. Ours must print the same: a kept store would re-emit window [0,100) (a duplicate, with a
stale count), kept metadata over a wiped store would never emit it (lost); the controls below show both.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import pytest

import pystreams.testing.driver as drv
from pystreams import Materialized, Produced, Serdes, StreamsBuilder, Stores
from pystreams.dsl.windows import EmitStrategy, SessionWindows, TimeWindows
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit
APP = "ttd-emit-final"


def _windowed_counts(sessions: bool) -> Any:
    """Emit-final count per key, output as "key@start" (time windows of 100 ms, persistent store "counts") or
    "key@start-end" (sessions with a 50 ms gap, store "sessions")."""
    builder = StreamsBuilder()
    grouped = builder.stream("in").group_by_key()
    if sessions:
        windowed: Any = grouped.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(50))
        store: Any = Materialized.as_("sessions")
    else:
        windowed = grouped.windowed_by(TimeWindows.of_size_with_no_grace(100))
        store = Materialized.as_(Stores.persistent_timestamped_window_store("counts", 3_600_000, 100))
    (windowed.emit_strategy(EmitStrategy.on_window_close()).count(store).to_stream()
     .map(lambda k, v: (f"{k.key}@{k.window.start}" + (f"-{k.window.end}" if sessions else ""), v))
     .to("out", Produced.with_(Serdes.String(), Serdes.Long())))
    return builder.build()


def _drive(topology: Any, cfg: dict[str, Any], stamps: list[int], before: Callable[[TopologyTestDriver], None]
           = lambda d: None) -> tuple[list[tuple[str, int]], dict[str, int]]:
    """One driver's life over cfg's state.dir: pipe one "k" record per timestamp, close; what it emitted and the
    processor metadata its task held at the end."""
    with TopologyTestDriver(topology, cfg) as d:
        before(d)
        inp = d.create_input_topic("in", Serdes.String(), Serdes.String())
        out = d.create_output_topic("out", Serdes.String(), Serdes.Long())
        for ts in stamps:
            inp.pipe_input("k", "v", ts)
        assert d.task is not None
        return [(kv.key, kv.value) for kv in out.read_key_values_to_list()], dict(d.task.processor_metadata)


CASES = {  # sessions -> (first driver's records, its output, second driver's records, its output)
    False: ([0, 10, 150], [("k@0", 2)], [50, 120, 260], [("k@0", 1), ("k@100", 1)]),
    True: ([0, 10, 150], [("k@0-10", 2)], [60, 70, 400], [("k@60-70", 2)]),
}


@pytest.fixture
def cfg(tmp_path: Any) -> dict[str, Any]:
    return {"application.id": APP, "state.dir": str(tmp_path), "default.key.serde": Serdes.String(),
            "default.value.serde": Serdes.String()}


@pytest.mark.parametrize("sessions", [False, True], ids=["time-windows", "sessions"])
def test_a_driver_recreated_over_the_same_state_dir_starts_clean_as_kafkas(cfg: dict[str, Any], sessions: bool) -> None:
    first_in, first_out, second_in, second_out = CASES[sessions]
    assert _drive(_windowed_counts(sessions), cfg, first_in)[0] == first_out
    assert not os.path.exists(os.path.join(cfg["state.dir"], APP))  # close() wiped it (StateDirectory.clean())
    assert _drive(_windowed_counts(sessions), cfg, second_in)[0] == second_out


def test_the_close_time_is_kept_in_the_task_for_the_drivers_life(cfg: dict[str, Any]) -> None:
    """Each closed window once, though the driver commits after every record; the metadata follows the emits."""
    emitted, metadata = _drive(_windowed_counts(False), cfg, [0, 10, 150, 160, 260, 270, 420])
    assert emitted == [("k@0", 2), ("k@100", 2), ("k@200", 2)]
    assert metadata == {"counts": 420}


def test_controls_a_kept_store_duplicates_and_kept_metadata_loses(cfg: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The assertions above catch both ways of getting a re-created driver wrong."""
    first_in, _, second_in, second_out = CASES[False]
    with monkeypatch.context() as m:  # a driver that kept its state: [0,100) emitted again, with a stale count
        m.setattr(drv.shutil, "rmtree", lambda *a, **k: None)
        _, metadata = _drive(_windowed_counts(False), cfg, first_in)
        kept, _ = _drive(_windowed_counts(False), cfg, second_in)
    assert kept == [("k@0", 3), ("k@100", 2)] != second_out
    drv.shutil.rmtree(os.path.join(cfg["state.dir"], APP))
    # a driver that carried its metadata over a wiped store: [0,100) is never emitted
    lost, _ = _drive(_windowed_counts(False), cfg, second_in,
                     before=lambda d: d.task.processor_metadata.update(metadata))  # type: ignore[union-attr]
    assert metadata == {"counts": 150} and lost == [("k@100", 1)] != second_out
