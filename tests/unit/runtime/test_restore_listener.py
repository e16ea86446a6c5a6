"""Kafka's StateRestoreListener on the ChangelogReader (fake restore consumer): on_restore_start for every changelog
partition (also with nothing to restore: start == end, then on_restore_end 0), on_batch_restored per batch with the
last offset restored, on_restore_end at the end, on_restore_suspended for a task removed or found corrupted before
its end; a listener that raises is fatal (StreamsException naming store and partition, the user's error as cause)
without leaking the task; KafkaStreams' setters only in CREATED."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from pystreams import StateRestoreListener, Topology
from pystreams.errors import ConfigError
from pystreams.processor.errors import StreamsException
from pystreams.runtime import (
    IllegalStateError,
    KafkaStreams,
    StandbyUpdateListener,
    State,
)
from pystreams.runtime.checkpoint import write_checkpoint
from pystreams.runtime.restore import ChangelogReader
from pystreams.runtime.restore_listeners import (
    DelegatingStateRestoreListener,
    TopicPartition,
)
from tests.unit.runtime.test_restore_changelog_reader import CL, FakeConsumer, _task

pytestmark = pytest.mark.unit


class Recorder(StateRestoreListener):
    def __init__(self, fail_on: str | None = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.fail_on = fail_on

    def _record(self, *event: Any) -> None:
        self.events.append(event)
        if event[0] == self.fail_on:
            raise ValueError(f"listener broke in {event[0]}")

    def on_restore_start(self, tp, store, start, end):
        self._record("start", tp, store, start, end)

    def on_batch_restored(self, tp, store, batch_end, n):
        self._record("batch", tp, store, batch_end, n)

    def on_restore_end(self, tp, store, total):
        self._record("end", tp, store, total)

    def on_restore_suspended(self, tp, store, total):
        self._record("suspended", tp, store, total)


def _reader(consumer: FakeConsumer, recorder: Recorder, closing: bool = False) -> ChangelogReader:
    delegate = DelegatingStateRestoreListener()
    delegate.set(recorder)
    return ChangelogReader(consumer, eos=False, listener=delegate, closing=lambda: closing)


def _drain(reader: ChangelogReader) -> list[Any]:
    ready: list[Any] = []
    for _ in range(10):
        ready.extend(reader.restore(1000, 0)[1])
        if not reader:
            break
    return ready


def test_start_batches_and_end_with_kafkas_arguments(tmp_path):
    rec = Recorder()
    reader = _reader(FakeConsumer({(CL, 0): 2500}), rec)
    at = _task(tmp_path, 0)
    write_checkpoint(at.task_dir, {(CL, 0): 99})  # restores from 100
    assert reader.add(at, [("in", 0)]) is False
    assert [rt.at for rt in _drain(reader)] == [at]
    tp = TopicPartition(CL, 0)
    assert rec.events == [("start", tp, "store", 100, 2500),
                          ("batch", tp, "store", 1099, 1000), ("batch", tp, "store", 2099, 1000),
                          ("batch", tp, "store", 2499, 400), ("end", tp, "store", 2400)]
    assert tp == (CL, 0) and str(tp) == f"{CL}-0"  # a plain (topic, partition) tuple too


def test_nothing_to_restore_still_starts_and_ends_with_zero(tmp_path):
    rec = Recorder()
    reader = _reader(FakeConsumer({(CL, 0): 50}), rec)
    at = _task(tmp_path, 0)
    write_checkpoint(at.task_dir, {(CL, 0): 49})  # a clean restart: the checkpoint is at the end
    assert reader.add(at, [("in", 0)]) is True  # runs at once
    assert rec.events == [("start", (CL, 0), "store", 50, 50), ("end", (CL, 0), "store", 0)]


def test_a_task_removed_before_its_end_is_suspended_and_one_that_ended_is_not(tmp_path):
    rec = Recorder()
    reader = _reader(FakeConsumer({(CL, 0): 10, (CL, 1): 2500}), rec)
    quick, slow = _task(tmp_path, 0), _task(tmp_path, 1)
    reader.add(quick, [("in", 0)])
    reader.add(slow, [("in", 1)])
    _restored, ready = reader.restore(1000, 0)  # all 10 of partition 0, then 989 of partition 1
    assert [rt.at for rt in ready] == [quick]
    reader.remove(slow.id)  # revoked while restoring
    assert rec.events == [("start", (CL, 0), "store", 0, 10), ("start", (CL, 1), "store", 0, 2500),
                          ("batch", (CL, 0), "store", 9, 10), ("batch", (CL, 1), "store", 988, 989),
                          ("end", (CL, 0), "store", 10), ("suspended", (CL, 1), "store", 989)]


def test_a_raising_listener_is_fatal_and_leaves_the_task_for_the_close(tmp_path, caplog):
    rec = Recorder(fail_on="batch")
    reader = _reader(FakeConsumer({(CL, 0): 2500}), rec)
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    with pytest.raises(StreamsException) as info:
        reader.restore(1000, 0)
    assert str(info.value) == (f"Fatal user code error in store restore listener for store store, partition "
                               f"{CL}-0.")
    assert isinstance(info.value.__cause__, ValueError)
    assert at.id in reader  # still registered: the failing thread's close removes (and closes) it
    # the thread's close: a listener failing in on_restore_suspended then is logged, the task still comes out
    rec.fail_on = "suspended"
    reader._closing = lambda: True
    with caplog.at_level(logging.ERROR, logger="pystreams.runtime"):
        assert reader.remove(at.id).at is at
    assert "restore listener failed while task 0_0 closed" in caplog.text
    assert at.id not in reader


def test_a_failing_on_restore_suspended_on_revocation_raises_and_is_not_asked_twice(tmp_path):
    rec = Recorder(fail_on="suspended")
    reader = _reader(FakeConsumer({(CL, 0): 2500}), rec)
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    reader.restore(1000, 0)
    with pytest.raises(StreamsException):
        reader.remove(at.id)  # revocation while running: fatal, as in Kafka
    assert at.id in reader
    assert reader.remove(at.id).at is at  # the close: removed without asking again
    assert [e[0] for e in rec.events] == ["start", "batch", "suspended"]


def test_a_listener_failing_for_a_task_with_nothing_to_restore_keeps_it_registered(tmp_path):
    rec = Recorder(fail_on="start")
    reader = _reader(FakeConsumer({(CL, 0): 0}), rec)
    at = _task(tmp_path, 0)
    with pytest.raises(StreamsException):
        reader.add(at, [("in", 0)])
    assert at.id in reader  # not lost: never handed to the caller, so the thread's close finds it here


def test_corruption_suspends_then_starts_again_from_the_beginning(tmp_path):
    rec = Recorder()
    reader = _reader(FakeConsumer({(CL, 0): 2500}), rec)
    at = _task(tmp_path, 0)
    at.wipe_and_revive = lambda: None
    reader.add(at, [("in", 0)])
    reader.restore(1000, 0)
    reader._corrupted(reader.restoring[at.id], "a test")
    assert rec.events[-2:] == [("suspended", (CL, 0), "store", 1000), ("start", (CL, 0), "store", 0, 2500)]


def test_without_a_listener_nothing_is_called_and_restore_works(tmp_path):
    reader = ChangelogReader(FakeConsumer({(CL, 0): 1500}), eos=False)
    at = _task(tmp_path, 0)
    reader.add(at, [("in", 0)])
    assert [rt.at for rt in _drain(reader)] == [at]


def _streams(tmp_path) -> KafkaStreams:
    topology = Topology()
    topology.add_source("src", "in")
    return KafkaStreams(topology, {"application.id": "rl", "bootstrap.servers": "127.0.0.1:1",
                                   "state.dir": str(tmp_path)})


def test_listeners_can_only_be_set_while_created(tmp_path):
    streams = _streams(tmp_path)
    streams.set_global_state_restore_listener(Recorder())
    streams.set_standby_update_listener(StandbyUpdateListener())
    streams.set_global_state_restore_listener(None)  # clears it
    assert not streams._global_restore_listener
    streams._state = State.RUNNING
    with pytest.raises(IllegalStateError, match="Can only set GlobalStateRestoreListener before calling start"
                                                r"\(\). Current state is: RUNNING"):
        streams.set_global_state_restore_listener(Recorder())
    with pytest.raises(IllegalStateError, match="Can only set StandbyUpdateListener before calling start"):
        streams.set_standby_update_listener(StandbyUpdateListener())


def test_an_object_without_the_listener_methods_is_refused(tmp_path):
    streams = _streams(tmp_path)
    with pytest.raises(ConfigError, match="StateRestoreListener needs the methods on_restore_start, "
                                          "on_batch_restored, on_restore_end"):
        streams.set_global_state_restore_listener(lambda *a: None)

    class OnlyStart:
        def on_update_start(self, *a):
            pass

    with pytest.raises(ConfigError, match="has no on_batch_loaded, on_update_suspended"):
        streams.set_standby_update_listener(OnlyStart())
