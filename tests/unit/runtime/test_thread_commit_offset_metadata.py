"""Under at_least_once the stream thread's group commit carries Kafka Streams' offset metadata (TopicPartitionMetadata:
the partition time) for each committed input partition, as the exactly_once_v2 path does in the transaction."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.processor import TaskId
from pystreams.runtime import thread_commit as thread_commit_module
from pystreams.runtime.offset_metadata import decode, encode
from pystreams.runtime.thread_metrics import ThreadMetrics
from tests.unit.runtime.support import bare_stream_thread

pytestmark = pytest.mark.unit


class _Task:
    """The StreamTask surface the commit reads: offsets to commit and each partition's time."""

    def __init__(self, offsets: dict[tuple[str, int], int], times: dict[tuple[str, int], int] | None) -> None:
        self.offsets, self.metrics = offsets, SimpleNamespace(processed=sum(offsets.values()))
        if times is not None:
            self.partition_time = lambda topic, partition: times.get((topic, partition), -1)

    def commit(self) -> None:
        pass

    def committable_offsets(self) -> dict[tuple[str, int], int]:
        return dict(self.offsets)


class _Group:
    def __init__(self) -> None:
        self.commits: list[tuple[Any, ...]] = []

    def commit(self, *args: Any) -> None:
        self.commits.append(args)


def _thread(monkeypatch: pytest.MonkeyPatch, *tasks: Any) -> Any:
    thread = bare_stream_thread("app-StreamThread-1", eos=False)
    thread.metrics = ThreadMetrics()
    thread.streams = SimpleNamespace(admin=None)
    thread._in_transaction = False
    thread._consumer = object()
    thread._collector = SimpleNamespace(flush_producer=lambda: None)
    thread._group = _Group()
    thread._purger = SimpleNamespace(maybe_purge=lambda admin, committed: list(committed))
    thread.tasks = {}
    for i, task in enumerate(tasks):
        at = SimpleNamespace(id=TaskId(0, i), task=task, committed_offsets={}, committed_processed=0)
        thread.tasks[at.id] = at
    monkeypatch.setattr(thread_commit_module, "checkpoint_task", lambda *a, **k: None)
    return thread


def test_at_least_once_commit_sends_each_partition_time(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, _Task({("in", 0): 10, ("other", 0): 3}, {("in", 0): 1_000, ("other", 0): 70}),
                     _Task({("in", 1): 4}, {("in", 1): 2_000}))
    thread._commit()
    assert thread._group.commits == [({("in", 0): 10, ("other", 0): 3, ("in", 1): 4},
                                      {("in", 0): encode(1_000), ("other", 0): encode(70), ("in", 1): encode(2_000)})]
    assert decode(thread._group.commits[0][1][("in", 1)]).partition_time == 2_000


def test_only_changed_offsets_are_committed_with_their_current_time(monkeypatch: pytest.MonkeyPatch) -> None:
    times = {("in", 0): 1_000, ("in", 1): 500}
    task = _Task({("in", 0): 10, ("in", 1): 5}, times)
    thread = _thread(monkeypatch, task)
    thread._commit()
    task.offsets[("in", 0)] = 12
    task.metrics.processed += 2
    times[("in", 0)] = 1_500
    thread._commit()
    assert thread._group.commits[1] == ({("in", 0): 12}, {("in", 0): encode(1_500)})


def test_tasks_without_partition_times_commit_offsets_only(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, _Task({("in", 0): 10}, None))
    thread._commit()
    assert thread._group.commits == [({("in", 0): 10},)]
