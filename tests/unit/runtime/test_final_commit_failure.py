"""A final commit that fails when the stream thread stops (production.exception.handler answered RETRY to a send
failure of the last flush: TaskCorruptedException) is not a thread error, as in Kafka Streams: TaskManager.shutdown
closes the tasks of the failed commit dirty (no offsets committed, no checkpoint written) and
StreamThread.completeShutdown logs what shutdown threw; the thread still closes its clients and leaves the group.
The records are processed again on the next start from the committed offsets. Both guarantees, no broker: a
scripted producer fails the one record the final commit's cache flush sends."""
from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from pystreams.processor import TaskId
from pystreams.runtime import task_manager as task_manager_module
from pystreams.runtime import thread_commit as thread_commit_module
from pystreams.runtime.thread_metrics import ThreadMetrics
from tests.unit.runtime.support import NothingToRestore, bare_stream_thread
from tests.unit.runtime.test_production_retry import _collector

pytestmark = pytest.mark.unit


class TransactionalProducer:
    """The scripted producer's transactions: commit_transaction fails (abortable) when a record of the transaction
    failed, as librdkafka's does."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self.calls: list[str] = []

    def install(self) -> None:
        p = self.producer
        p.begin_transaction = lambda *a: self.calls.append("begin")
        p.send_offsets_to_transaction = lambda *a: self.calls.append("send_offsets")
        p.abort_transaction = lambda *a: self.calls.append("abort")

        def commit_transaction(*_a: Any) -> None:
            self.calls.append("commit")
            p.flush()
            raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, "a record of the transaction failed",
                                            txn_requires_abort=True))

        p.commit_transaction = commit_transaction


class FlushingTask:
    """The StreamTask surface the commit reads; commit() flushes its cache: one record to `out`."""

    def __init__(self, collector: Any, partition: int) -> None:
        self.collector, self.partition = collector, partition
        self.metrics = SimpleNamespace(processed=5)

    def commit(self) -> None:
        self.collector.send("out", b"k", b"v", (), 1, self.partition)

    def committable_offsets(self) -> dict[tuple[str, int], int]:
        return {("in", self.partition): 5}


class Group:
    def __init__(self) -> None:
        self.commits: list[Any] = []
        self.left: list[bool] = []

    def commit(self, offsets: Any) -> None:
        self.commits.append(offsets)

    def group_metadata(self) -> bytes:
        return b"metadata"

    def close(self, leave: bool = True) -> None:
        self.left.append(leave)


def _stopping_thread(monkeypatch: pytest.MonkeyPatch, eos: bool) -> tuple[Any, dict[str, Any]]:
    """A thread whose loop has ended (shutdown) with two running tasks; the final flush's record fails with a
    retriable error that the handler answers RETRY."""
    seen: dict[str, Any] = {"closed": [], "failed": [], "consumer_closed": []}
    thread = bare_stream_thread("app-StreamThread-1", eos=eos)
    thread.running = False
    thread.error = None
    thread.metrics = ThreadMetrics()
    thread.streams = SimpleNamespace(_thread_failed=lambda t, e: seen["failed"].append(e), admin=None)
    thread._restorer = NothingToRestore()
    thread._standby = None
    thread._in_transaction = False
    thread._consumer = SimpleNamespace(close=lambda: seen["consumer_closed"].append(True))
    thread._restore_consumer = None
    thread._group = seen["group"] = Group()
    thread._collector = _collector(monkeypatch)
    thread._collector.producer.fail[0] = KafkaError._MSG_TIMED_OUT  # the first record sent: the final flush's
    if eos:
        seen["txn"] = TransactionalProducer(thread._collector.producer)
        seen["txn"].install()
    thread.tasks, thread.by_partition = {}, {}
    for p in (0, 1):
        at = SimpleNamespace(id=TaskId(0, p), task=FlushingTask(thread._collector, p), committed_offsets={},
                             committed_processed=0)
        thread.tasks[at.id] = at
        thread.by_partition[("in", p)] = at
    monkeypatch.setattr(task_manager_module, "close_task",
                        lambda at, clean, eos: seen["closed"].append((at.id, clean)))
    monkeypatch.setattr(thread_commit_module, "checkpoint_task",
                        lambda *a, **k: pytest.fail("a task whose final commit failed must not be checkpointed"))
    monkeypatch.setattr(thread, "_open_clients", lambda: None)
    monkeypatch.setattr(thread, "_loop", lambda: None)  # the loop ended: shutdown() was called
    return thread, seen


@pytest.mark.parametrize("eos", [False, True], ids=["at_least_once", "exactly_once_v2"])
def test_a_retry_in_the_final_commit_closes_the_tasks_dirty_and_the_thread_stops_cleanly(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, eos: bool) -> None:
    thread, seen = _stopping_thread(monkeypatch, eos)
    collector = thread._collector
    with caplog.at_level(logging.ERROR, logger="pystreams.runtime"):
        thread.run()
    assert seen["failed"] == [] and thread.error is None  # not a thread error
    assert seen["closed"] == [(TaskId(0, 0), False), (TaskId(0, 1), False)]  # dirty, checkpoint_task never called
    assert thread.tasks == {} and thread.by_partition == {}
    assert seen["group"].commits == []  # no offsets committed: the next start processes the records again
    if eos:
        assert seen["txn"].calls == ["begin", "send_offsets", "commit", "abort"]  # the offsets' transaction aborted
    assert seen["group"].left == [True] and seen["consumer_closed"] == [True]  # clients closed, group left
    assert thread._collector is None and collector.error is not None and collector.error_retry
    logged = [r.getMessage() for r in caplog.records]
    assert any("returned RETRY" in line for line in logged)
    assert any("final commit failed, closing tasks ['0_0', '0_1'] without committing" in line for line in logged)


def test_a_successful_final_commit_commits_and_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side: without the send failure the same stop commits the offsets and closes the tasks clean."""
    thread, seen = _stopping_thread(monkeypatch, eos=False)
    thread._collector.producer.fail.clear()
    checkpointed: list[Any] = []
    monkeypatch.setattr(thread_commit_module, "checkpoint_task", lambda at, *a, **k: checkpointed.append(at.id))
    thread._purger = SimpleNamespace(maybe_purge=lambda *a: None)
    thread.run()
    assert seen["failed"] == [] and seen["group"].commits == [{("in", 0): 5, ("in", 1): 5}]
    assert checkpointed == [TaskId(0, 0), TaskId(0, 1)]
    assert seen["closed"] == [(TaskId(0, 0), True), (TaskId(0, 1), True)]
