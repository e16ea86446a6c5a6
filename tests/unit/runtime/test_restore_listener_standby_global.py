"""KIP-988's StandbyUpdateListener on the StandbyManager (real RocksDB stores, fake consumer) and the
StateRestoreListener on the global bootstrap (scripted global consumer), with Kafka's arguments: standby start
offsets, current end offset = last offset + lag, PROMOTED vs MIGRATED; the global bootstrap's start / batch (the
consumer's position, as GlobalStateManagerImpl passes it) / end, suspended on a wipe; raising listeners."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import TopicPartition

from pystreams import StandbyUpdateListener
from pystreams.processor.errors import StreamsException
from pystreams.processor.task_id import TaskId
from pystreams.runtime import SuspendReason, global_state
from pystreams.runtime.restore_listeners import DelegatingStandbyUpdateListener
from pystreams.runtime.standby import StandbyManager
from tests.unit.runtime.standby_support import (
    CHANGELOG,
    FakeConsumer,
    FakeMessage,
    standby_manager,
)
from tests.unit.runtime.global_support import (
    TOPIC,
    ScriptedConsumer,
    customer_records,
    global_streams,
    out_of_range,
    script_global_consumer,
)
from tests.unit.runtime.test_restore_listener import Recorder

pytestmark = pytest.mark.unit

T = TaskId(0, 1)
TP = (CHANGELOG, 1)


class StandbyRecorder(StandbyUpdateListener):
    def __init__(self, fail_on: str | None = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.fail_on = fail_on

    def _record(self, *event: Any) -> None:
        self.events.append(event)
        if event[0] == self.fail_on:
            raise RuntimeError(f"listener broke in {event[0]}")

    def on_update_start(self, tp, store, start):
        self._record("start", tp, store, start)

    def on_batch_loaded(self, tp, store, task_id, batch_end, size, current_end):
        self._record("batch", tp, store, task_id, batch_end, size, current_end)

    def on_update_suspended(self, tp, store, store_offset, current_end, reason):
        self._record("suspended", tp, store, store_offset, current_end, reason)


class PositionedConsumer(FakeConsumer):
    """The standby fake plus watermarks and positions (the position follows the records handed out)."""

    def __init__(self) -> None:
        super().__init__()
        self.low, self.high, self.pos = 0, 10, -1001

    def consume(self, num_messages, timeout):
        out = super().consume(num_messages, timeout)
        if out:
            self.pos = out[-1].offset() + 1
        return out

    def get_watermark_offsets(self, tp, timeout=None, cached=False):
        return self.low, self.high

    def position(self, tps):
        return [TopicPartition(tp.topic, tp.partition, self.pos) for tp in tps]


@pytest.fixture
def standbys(tmp_path, monkeypatch):
    """A count task's standby manager whose client has a recording StandbyUpdateListener."""
    delegate, recorder = DelegatingStandbyUpdateListener(), StandbyRecorder()
    delegate.set(recorder)
    m = standby_manager(tmp_path, monkeypatch, PositionedConsumer(), _standby_listener=delegate)
    m.recorder = recorder
    yield m
    m.close()


def _load(m: StandbyManager, offsets: range) -> int:
    m.consumer.queue = [FakeMessage(1, o, f"k{o}".encode(), b"\x00" * 8) for o in offsets]
    return m.poll()


def test_standby_start_batches_and_promotion(standbys):
    standbys.consumer.low = 3  # no checkpoint: Kafka reports the consumer's position, the log start
    standbys.assign({T: [TP]})
    assert standbys.recorder.events == [("start", TP, "counts", 3)]
    standbys.consumer.high = 15  # behind: 5 more records in the changelog after this batch
    assert _load(standbys, range(3, 10)) == 7
    assert standbys.recorder.events[-1] == ("batch", TP, "counts", T, 9, 7, 14)  # 9 + lag (15 - 10)
    standbys.consumer.high = 12
    assert _load(standbys, range(10, 12)) == 2
    assert standbys.recorder.events[-1] == ("batch", TP, "counts", T, 11, 2, 11)  # caught up: end == last
    standbys.note_active_tasks({T: [("in", 1)]})  # the next assignment makes it this thread's active task
    standbys.assign({})
    assert standbys.recorder.events[-1] == ("suspended", TP, "counts", 11, 11, SuspendReason.PROMOTED)


def test_standby_moved_away_is_migrated_and_restarts_after_its_checkpoint(standbys):
    standbys.assign({T: [TP]})
    _load(standbys, range(5))  # 5 of the changelog's 10
    standbys.note_active_tasks({})
    standbys.assign({})
    assert standbys.recorder.events[-1] == ("suspended", TP, "counts", 4, 9, SuspendReason.MIGRATED)
    standbys.assign({T: [TP]})  # back: from its checkpoint
    assert standbys.recorder.events[-1] == ("start", TP, "counts", 5)


def test_a_raising_standby_listener_is_fatal_but_the_close_still_closes(standbys, caplog):
    standbys.assign({T: [TP]})
    standbys.recorder.fail_on = "batch"
    with pytest.raises(StreamsException, match="Fatal user code error in standby update listener for store "
                                               f"counts, partition {CHANGELOG}-1"):
        _load(standbys, range(5))
    standbys.recorder.fail_on = "suspended"
    consumer = standbys.consumer
    with caplog.at_level(logging.ERROR, logger="pystreams.runtime"):
        standbys.close()
    assert "standby update listener failed while standby 0_1 closed" in caplog.text
    assert standbys.tasks == {} and consumer.closed
    assert standbys.recorder.events[-1][-1] is SuspendReason.MIGRATED


def _global(tmp_path: Any, monkeypatch: Any, scripts: list[list[Any]], marks: list[tuple[int, int]],
            recorder: Recorder) -> global_state.GlobalStateManager:
    script_global_consumer(monkeypatch, ScriptedConsumer(scripts), *marks)
    streams = global_streams(tmp_path)
    streams.set_global_state_restore_listener(recorder)
    manager = global_state.GlobalStateManager(streams)
    monkeypatch.setattr(manager, "_run", lambda: None)
    return manager


def test_global_bootstrap_is_reported_like_kafka_and_a_clean_restart_restores_zero(tmp_path, monkeypatch):
    rec = Recorder()
    manager = _global(tmp_path, monkeypatch, [[customer_records(range(3), "c")]], [(0, 3)], rec)
    try:
        manager.start(timeout=10)
    finally:
        manager.close()
    tp = (TOPIC, 0)
    assert rec.events == [("start", tp, "customers", 0, 3), ("batch", tp, "customers", 3, 3),
                          ("end", tp, "customers", 3)]
    rec.events.clear()
    manager = _global(tmp_path, monkeypatch, [[]], [(0, 3)], rec)
    try:
        manager.start(timeout=10)
    finally:
        manager.close()
    assert rec.events == [("start", tp, "customers", 3, 3), ("end", tp, "customers", 0)]


def test_a_wipe_while_bootstrapping_suspends_and_starts_again(tmp_path, monkeypatch):
    rec = Recorder()
    scripts = [[customer_records(range(5), "c"), [out_of_range(5)]], [customer_records(range(3), "d")]]
    manager = _global(tmp_path, monkeypatch, scripts, [(0, 10), (0, 3)], rec)
    try:
        manager.start(timeout=10)
    finally:
        manager.close()
    tp = (TOPIC, 0)
    assert rec.events == [("start", tp, "customers", 0, 10), ("batch", tp, "customers", 5, 5),
                          ("suspended", tp, "customers", 5),
                          ("start", tp, "customers", 0, 3), ("batch", tp, "customers", 3, 3),
                          ("end", tp, "customers", 3)]


def test_a_raising_listener_fails_the_global_bootstrap(tmp_path, monkeypatch):
    manager = _global(tmp_path, monkeypatch, [[customer_records(range(3), "c")]], [(0, 3)], Recorder(fail_on="start"))
    try:
        with pytest.raises(StreamsException, match=f"store customers, partition {TOPIC}-0") as info:
            manager.start(timeout=10)
        assert isinstance(info.value.__cause__, ValueError)
    finally:
        manager.close()
