"""The stream thread's side of restoring between polls, on a thread object without clients: a restoring task's
input partitions are held back (with the offsets read before the restore) and assigned when it runs; a revoked
restoring task closes at once, checkpointing what it restored; the thread is REBALANCING until none restores."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import TopicPartition

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import read_checkpoint
from pystreams.runtime.restore import ChangelogReader
from tests.unit.runtime.support import bare_stream_thread
from pystreams.runtime.stream_thread import ThreadMetrics
from tests.unit.runtime.test_restore_changelog_reader import CL, FakeConsumer, _task

pytestmark = pytest.mark.unit


class MainConsumer:
    def __init__(self) -> None:
        self.assigned: list[tuple[str, int, int]] = []

    def incremental_assign(self, tps: list[Any]) -> None:
        self.assigned.extend((tp.topic, tp.partition, tp.offset) for tp in tps)


def _closable(at: Any) -> Any:
    at.closed = False
    at.task.close = lambda: setattr(at, "closed", True)
    at.lock = SimpleNamespace(unlock=lambda: None)
    return at


def _thread(restore_consumer: FakeConsumer) -> Any:
    thread = bare_stream_thread()
    events: list[str] = []
    thread.streams = SimpleNamespace(_thread_rebalancing=lambda: events.append("rebalancing"),
                                     _thread_running=lambda: events.append("running"),
                                     _restore_progress=lambda *a: None)
    thread.events = events
    thread.eos, thread.rebalancing = False, True
    thread.tasks, thread.by_partition = {}, {}
    thread.metrics = ThreadMetrics()
    thread.config = SimpleNamespace(max_poll_records=1000)
    thread._consumer = MainConsumer()
    thread._restorer = ChangelogReader(restore_consumer, False, thread._restore_progress)
    return thread


def test_a_restored_task_runs_at_the_offsets_read_before_its_restore(tmp_path):
    thread = _thread(FakeConsumer({(CL, 0): 1500}))
    at = _closable(_task(tmp_path, 0))
    assert thread._restorer.add(at, [("in", 0)]) is False
    now = thread._defer_assignment([TopicPartition("in", 0, 42), TopicPartition("other", 0, 7)])
    assert [(tp.topic, tp.offset) for tp in now] == [("other", 7)]  # not a restoring task's: assigned at once
    assert thread.tasks == {} and thread.by_partition == {} and thread.rebalancing  # RESTORING, not running
    thread._restore_step()  # batches of max.poll.records within the step's time budget
    while thread._restorer:
        thread._restore_step()
    assert thread.tasks == {TaskId(0, 0): at} and thread.by_partition == {("in", 0): at}
    assert thread._consumer.assigned == [("in", 0, 42)]
    assert not thread.rebalancing and thread.events[-1] == "running"
    assert thread.metrics.restored == 1500


def test_a_revoked_restoring_task_closes_and_checkpoints_what_it_restored(tmp_path):
    thread = _thread(FakeConsumer({(CL, 0): 5000, (CL, 1): 5000}))
    a0, a1 = _closable(_task(tmp_path, 0)), _closable(_task(tmp_path, 1))
    thread._restorer.add(a0, [("in", 0)])
    thread._restorer.add(a1, [("in", 1)])
    thread._defer_assignment([TopicPartition("in", 0, 3), TopicPartition("in", 1, 4)])
    restored, _ = thread._restorer.restore(1000, 0.0)  # the fake hands out partition 0 first
    assert restored == 1000
    thread._on_revoke(thread._consumer, [TopicPartition("in", 0)])
    assert a0.closed and not a1.closed
    assert TaskId(0, 0) not in thread._restorer and TaskId(0, 1) in thread._restorer
    assert read_checkpoint(a0.task_dir) == {(CL, 0): 999}
    assert thread.rebalancing  # a1 still restores
    while thread._restorer:
        thread._restore_step()
    assert thread._consumer.assigned == [("in", 1, 4)]  # never the revoked task's partition
    assert set(thread.tasks) == {TaskId(0, 1)}


def test_closing_the_thread_closes_restoring_tasks_dirty_without_a_checkpoint(tmp_path):
    thread = _thread(FakeConsumer({(CL, 0): 5000}))
    at = _closable(_task(tmp_path, 0))
    thread._restorer.add(at, [("in", 0)])
    thread._restorer.restore(1000, 0.0)
    thread._close_tasks(clean=False)
    assert at.closed and not thread._restorer and read_checkpoint(at.task_dir) == {}
