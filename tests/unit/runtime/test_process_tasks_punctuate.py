"""process_tasks reports punctuation to the thread's metrics as Kafka's StreamThread does: punctuate-total counts
the tasks that punctuated in a pass (stream time and wall clock), punctuate-latency their time, and that time is
left out of process-latency."""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.processing import process_tasks
from pystreams.runtime.thread_metrics import ThreadMetrics

pytestmark = [pytest.mark.unit]


class FakeTask:
    """A task with `records` queued, processed in one batch, whose punctuators fire as told (each sleeps)."""

    def __init__(self, records: int, stream: bool, wall: bool, punctuate_s: float = 0.0) -> None:
        self.records, self.stream, self.wall, self.punctuate_s = records, stream, wall, punctuate_s
        self.commit_requested = False

    def has_records_queued(self) -> bool:
        return self.records > 0

    def process_batch(self, limit: int) -> int:
        done, self.records = self.records, 0
        return done

    def _fire(self, fires: bool) -> bool:
        if fires:
            time.sleep(self.punctuate_s)
        return fires

    def maybe_punctuate_stream_time(self) -> bool:
        return self._fire(self.stream)

    def maybe_punctuate_system_time(self) -> bool:
        return self._fire(self.wall)


def _active(task: FakeTask) -> Any:
    return SimpleNamespace(task=task)


def test_tasks_that_punctuated_are_counted_with_their_time():
    metrics = ThreadMetrics()
    tasks = [FakeTask(5, stream=True, wall=True, punctuate_s=0.02), FakeTask(3, stream=False, wall=False),
             FakeTask(0, stream=True, wall=False)]  # no records: stream-time punctuation is not tried
    assert process_tasks([_active(t) for t in tasks], metrics, [1.0]) == 8
    assert metrics.punctuations == 2  # task 1: stream time and wall clock
    assert metrics.punctuate_wired
    assert metrics.processed == 8
    # the 40 ms of punctuation are not process time (Kafka times punctuate apart from process)
    assert metrics.process_ms < 30


def test_a_pass_without_punctuation_marks_the_metrics_measured():
    metrics = ThreadMetrics()
    assert not metrics.punctuate_wired
    process_tasks([_active(FakeTask(2, stream=False, wall=False))], metrics, [1.0])
    assert metrics.punctuate_wired and metrics.punctuations == 0
