"""Kafka's task-level enforced-processing-total / enforced-processing-rate (stream-task-metrics, tags thread-id and
task-id) on /metrics and in KafkaStreams.metrics(): records a real StreamTask processed under task idling because
an empty partition was caught up (processing.process_tasks, TaskIdling), sampled as windowed rates like
dropped-records; a task that never idles reports 0, a task that moved away loses its series."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.processing import process_tasks
from pystreams.runtime.server import StreamsCollector
from pystreams.runtime.thread_metrics import ThreadMetrics, client_metrics
from tests.unit.runtime.test_process_tasks_idling import FakeConsumer, _active, _records

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _samples(collector: StreamsCollector) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("task_id", "")): s.value for family in collector.collect() for s in family.samples}


def test_enforced_processing_of_a_real_task_is_exported_per_task_with_kafkas_name_and_tags(tmp_path):
    clock = Clock(0.0)
    metrics = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    idle = _active(tmp_path / "idle", "idle")
    plain = SimpleNamespace(task=SimpleNamespace(metrics=SimpleNamespace(dropped_records=0)))  # never idles
    thread = SimpleNamespace(name="app-StreamThread-1", metrics=metrics, is_alive=lambda: True, _standby=None,
                             tasks={"0_0": idle, "1_0": plain})
    streams = SimpleNamespace(client_id="app-1", threads=[thread])
    collector = StreamsCollector(streams)
    assert _samples(collector)[("kafka_streams_stream_task_enforced_processing_total", "0_0")] == 0
    idle.task.add_records("a", 0, _records()["a"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (4, 4)})  # c caught up and empty: enforced at once
    assert process_tasks([idle], metrics, [1.0], consumer) == 8
    clock.t = 1.0
    got = _samples(collector)
    assert got[("kafka_streams_stream_task_enforced_processing_total", "0_0")] == 8
    assert got[("kafka_streams_stream_task_enforced_processing_rate", "0_0")] == pytest.approx(8 / 1.0)
    assert got[("kafka_streams_stream_task_enforced_processing_total", "1_0")] == 0
    families = {f.name: f for f in collector.collect()}
    labels = families["kafka_streams_stream_task_enforced_processing"].samples[0].labels
    assert set(labels) == {"client_id", "thread_id", "task_id"} and labels["thread_id"] == "app-StreamThread-1"
    assert families["kafka_streams_stream_task_enforced_processing"].type == "counter"
    assert client_metrics(streams)["enforced-processing-total"] == 8
    del thread.tasks["0_0"]  # moved away: its series go, as Kafka removes a closed task's metrics
    assert ("kafka_streams_stream_task_enforced_processing_total", "0_0") not in _samples(collector)


def test_caught_up_partitions_with_data_are_not_counted_as_enforced(tmp_path):
    metrics = ThreadMetrics()
    at = _active(tmp_path, "both")
    records = _records()
    at.task.add_records("a", 0, records["a"])
    at.task.add_records("c", 0, records["c"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (4, 4)})
    thread: Any = SimpleNamespace(name="t", metrics=metrics, is_alive=lambda: True, _standby=None, tasks={"0_0": at})
    processed = process_tasks([at], metrics, [1.0], consumer)
    assert processed > 0
    values = {name: value for name, value in _samples(StreamsCollector(
        SimpleNamespace(client_id="c", threads=[thread]))).items()}
    # every record processed while both partitions had data is normal processing; only the tail of "a" after
    # "c" ran dry (caught up, empty) is enforced
    enforced = values[("kafka_streams_stream_task_enforced_processing_total", "0_0")]
    assert enforced == at.task.idling.enforced_processing_total < processed
