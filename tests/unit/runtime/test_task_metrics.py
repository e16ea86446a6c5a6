"""Kafka's thread metrics process-records / poll-records, task-created at creation, and the stream-task-metrics
with Kafka's names, tags and recording levels (TaskMetrics.java): active-process-ratio (INFO), process-, punctuate-
and record-lateness (DEBUG), recorded per task per pass (task_metrics.TaskSensors, processing.process_tasks)."""
from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.client_metrics import kafka_metrics, metric_name
from pystreams.runtime.kafka_streams import State
from pystreams.runtime.processing import process_tasks
from pystreams.runtime.task_metrics import TASK_METRICS, TaskSensors
from pystreams.runtime.thread_metrics import ThreadMetrics
from pystreams.state.context import RecordContext

pytestmark = pytest.mark.unit

THREAD = "wc-1-StreamThread-1"
THREAD_TAGS = {"thread-id": THREAD}


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Config(dict):
    application_id = "wordcount"


class Streams:
    def __init__(self, threads: list[Any], config: dict[str, str] | None = None) -> None:
        self.client_id, self.process_id, self.threads, self.state = "wc-1", "p-42", threads, State.RUNNING
        self.config = Config(config or {})
        self.topology = SimpleNamespace(describe=lambda: "Topologies:")


class _Queue(list):  # type: ignore[type-arg]
    """An input queue: its buffered records' timestamps (no partition time: no e2e sample)."""

    partition_time = -1
    source = SimpleNamespace(name="KSTREAM-SOURCE-0000000000")


class FakeTask:
    """A StreamTask as process_tasks and the task metrics see it: records (timestamps) processed by
    process_batch, the stream time and record context they set, the task's own counters."""

    def __init__(self, timestamps: list[int], stream_time: int = -1) -> None:
        self.pending = _Queue(timestamps)
        self.stream_time = stream_time
        self.store_context = SimpleNamespace(record_context=RecordContext())
        self.metrics = SimpleNamespace(processed=0, punctuations=0, dropped_records=0)
        self.batch_calls: list[int] = []
        self.commit_requested = False
        self._queues = {("in", 0): self.pending}
        self.stores: dict[str, Any] = {}

    def has_records_queued(self) -> bool:
        return bool(self.pending)

    def process_batch(self, max_records: int) -> int:
        self.batch_calls.append(max_records)
        done = 0
        while self.pending and done < max_records:
            ts = self.pending.pop(0)
            self.stream_time = max(self.stream_time, ts)
            self.store_context.record_context.timestamp = ts
            done += 1
        self.metrics.processed += done
        return done

    def maybe_punctuate_stream_time(self) -> int:
        return 0

    def maybe_punctuate_system_time(self) -> int:
        return 0


def _active(task_id: str, task: Any) -> SimpleNamespace:
    return SimpleNamespace(id=task_id, task=task)


def _thread(m: ThreadMetrics, tasks: dict[str, Any] | None = None, restorer: Any = None,
            standby: Any = None) -> SimpleNamespace:
    return SimpleNamespace(name=THREAD, metrics=m, tasks=tasks or {}, is_alive=lambda: True, _standby=standby,
                           _restorer=restorer, error=None)


def test_process_records_per_iteration_and_poll_records_per_non_empty_poll():
    clock = Clock()
    m = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    m.end_iteration()
    m.note_poll(0)  # an empty poll: poll-total, no poll-records sample (Kafka records only non-empty polls)
    m.record_process(30, 3.0)
    m.record_process(20, 2.0)  # two passes, one iteration: 50 records
    m.end_iteration()
    m.note_poll(100)
    m.note_poll(300)
    m.end_iteration()  # processed nothing: process-records records 0 (Kafka records every iteration)
    w = m.windowed()
    assert m.polls == 3
    assert w["poll-records-avg"] == pytest.approx(200.0) and w["poll-records-max"] == 300
    assert w["process-records-avg"] == pytest.approx(50 / 3) and w["process-records-max"] == 50
    got = kafka_metrics(Streams([_thread(m)]))
    for name in ("process-records-avg", "process-records-max", "poll-records-avg", "poll-records-max"):
        assert metric_name(name, "stream-thread-metrics", THREAD_TAGS) in got, name
    clock.t += 5  # the windows passed: Kafka's Avg/Max of nothing is NaN
    assert math.isnan(m.windowed()["poll-records-max"])


def test_task_created_when_made_restoring_or_standby_not_when_it_first_runs():
    restorer = SimpleNamespace(restoring={})
    standby = SimpleNamespace(tasks={})
    thread = _thread(ThreadMetrics(), restorer=restorer, standby=standby)
    m = ThreadMetrics(owner=thread)
    stateful, stateless, replica = object(), object(), object()
    restorer.restoring["0_0"] = SimpleNamespace(at=stateful)  # made in the rebalance: restoring first
    standby.tasks["1_0"] = replica
    m.end_iteration({("b", 0): stateless}.values())
    assert (m.tasks_created, m.tasks_closed) == (3, 0)
    del restorer.restoring["0_0"]  # restored: the same task runs now; no second creation
    m.end_iteration({("a", 0): stateful, ("b", 0): stateless}.values())
    assert (m.tasks_created, m.tasks_closed) == (3, 0)
    assert m._task_refs == [stateful, stateless]  # the restored task is sampled for record-e2e-latency now
    del standby.tasks["1_0"]  # the standby closed
    m.end_iteration({("a", 0): stateful, ("b", 0): stateless}.values())
    assert (m.tasks_created, m.tasks_closed) == (3, 1)


def test_active_process_ratio_is_each_tasks_share_of_the_iterations_processing_time():
    sensors = TaskSensors("INFO")
    a, b, idle = _active("0_0", None), _active("0_1", None), _active("0_2", None)
    sensors.record_process(a, 30, 0.030)
    sensors.record_process(b, 10, 0.010)
    sensors.record_process(a, 0, 0.000)
    sensors.end_iteration([a, b, idle, b])
    got = sensors.values()
    assert got["0_0"]["active-process-ratio"] == pytest.approx(0.75)
    assert got["0_1"]["active-process-ratio"] == pytest.approx(0.25)
    assert got["0_2"]["active-process-ratio"] == 0.0
    assert "process-latency-avg" not in got["0_0"]  # DEBUG in Kafka: not recorded at INFO
    sensors.end_iteration([a, b])  # nothing processed: the last ratios stay
    assert sensors.values()["0_0"]["active-process-ratio"] == pytest.approx(0.75)
    sensors.retain([a])
    assert set(sensors.values()) == {"0_0"}


def test_debug_punctuate_latency_in_ns_per_punctuation_and_none_at_info():
    clock = Clock()
    sensors = TaskSensors("DEBUG", 1000, 2, clock)
    a = _active("0_0", None)
    sensors.record_punctuate(a, 2, 0.001)
    sensors.record_punctuate(a, 1, 0.004)
    got = sensors.values()["0_0"]
    assert got["punctuate-latency-avg"] == pytest.approx((500_000 + 4_000_000) / 2)
    assert got["punctuate-latency-max"] == pytest.approx(4_000_000)
    clock.t += 10
    assert math.isnan(sensors.values()["0_0"]["punctuate-latency-max"])
    info = TaskSensors("INFO")
    info.record_punctuate(a, 2, 0.001)
    assert info.values() == {}


class SlowTask(FakeTask):
    """Each record takes `ms[i]` milliseconds to process."""

    def __init__(self, timestamps: list[int], ms: list[float]) -> None:
        super().__init__(timestamps)
        self.ms = list(ms)

    def process_batch(self, max_records: int) -> int:
        if self.pending:
            time.sleep(self.ms.pop(0) / 1000)
        return super().process_batch(max_records)


def test_debug_process_latency_is_each_records_time_in_ns():
    sensors = TaskSensors("DEBUG")
    task = SlowTask([1, 2], [1.0, 20.0])
    at = _active("0_0", task)
    assert sensors.lateness_batches(at, task.process_batch)(1_000_000) == 2
    got = sensors.values()["0_0"]
    assert 20e6 <= got["process-latency-max"] < 1e9  # the slow record, in ns
    assert 1e6 <= got["process-latency-avg"] < got["process-latency-max"]


def test_process_tasks_at_info_processes_a_batch_per_call_and_at_debug_measures_record_lateness():
    info = ThreadMetrics()
    task = FakeTask([10, 5, 20, 12])
    assert process_tasks([_active("0_0", task)], info, [1.0]) == 4
    assert task.batch_calls == [1_000_000]  # INFO: one call for the batch, nothing per record
    debug = ThreadMetrics({"metrics.recording.level": "DEBUG"})
    task = FakeTask([10, 5, 20, 12], stream_time=7)
    at = _active("0_0", task)
    assert process_tasks([at], debug, [1.0]) == 4
    assert task.batch_calls == [1, 1, 1, 1, 1]  # one record per call, the last finds none
    values = debug.task_sensors.values()["0_0"]
    # Kafka's PartitionGroup: stream time minus the record's timestamp, 0 for a newer record
    assert values["record-lateness-max"] == 8  # 12 after 20
    assert values["record-lateness-avg"] == pytest.approx((0 + 5 + 0 + 8) / 4)  # 10 > 7, 5 after 10, 20 newer
    assert values["process-latency-avg"] > 0


def test_task_metrics_exported_with_kafkas_names_tags_and_levels():
    metrics = ThreadMetrics()
    task = FakeTask([1, 2, 3])
    task.metrics.punctuations = 2
    at = _active("0_0", task)
    thread = _thread(metrics, tasks={"0_0": at})
    process_tasks([at], metrics, [1.0])
    metrics.end_iteration([at])
    tags = {"thread-id": THREAD, "task-id": "0_0"}
    info = kafka_metrics(Streams([thread]))
    info_names = {n.name for n in info if n.group == "stream-task-metrics"}
    assert info_names == {name for name, level in TASK_METRICS if level == "INFO"}
    assert info[metric_name("active-process-ratio", "stream-task-metrics", tags)] == 1.0

    debug_metrics = ThreadMetrics({"metrics.recording.level": "DEBUG"})
    task = FakeTask([1, 2, 3])
    task.metrics.punctuations = 2
    at = _active("0_0", task)
    thread = _thread(debug_metrics, tasks={"0_0": at})
    task.pending.append(4)  # polled, not processed yet: active-buffer-count
    process_tasks([at], debug_metrics, [1.0])
    task.pending.append(9)
    debug = kafka_metrics(Streams([thread], config={"metrics.recording.level": "DEBUG"}))
    debug_names = {n.name for n in debug if n.group == "stream-task-metrics"}
    assert debug_names == {name for name, _ in TASK_METRICS}
    assert debug[metric_name("process-total", "stream-task-metrics", tags)] == 4
    assert debug[metric_name("process-rate", "stream-task-metrics", tags)] > 0
    assert debug[metric_name("punctuate-total", "stream-task-metrics", tags)] == 2
    assert debug[metric_name("active-buffer-count", "stream-task-metrics", tags)] == 1
    assert debug[metric_name("record-lateness-max", "stream-task-metrics", tags)] == 0  # in order: never late
    assert math.isnan(debug[metric_name("punctuate-latency-avg", "stream-task-metrics", tags)])  # none ran


class TwoQueueTask(FakeTask):
    """Records of two input partitions, in the order the task picks them: (partition, timestamp)."""

    def __init__(self, records: list[tuple[int, int]]) -> None:
        super().__init__([ts for _p, ts in records])
        self.order = list(records)
        self._queues = {("in", 0): self.pending, ("in", 1): _Queue()}

    def buffered(self, topic: str, partition: int) -> int:
        return sum(1 for p, _ts in self.order if p == partition)

    def process_batch(self, max_records: int) -> int:
        self.batch_calls.append(max_records)
        done = 0
        while self.order and done < max_records:
            partition, ts = self.order.pop(0)
            self.pending.pop(0)
            self.stream_time = max(self.stream_time, ts)
            rc = self.store_context.record_context
            rc.topic, rc.partition, rc.timestamp = "in", partition, ts
            done += 1
        self.metrics.processed += done
        return done


def test_debug_batches_of_a_task_that_may_idle_stop_when_a_partition_ran_dry_as_process_batch_does():
    sensors = TaskSensors("DEBUG")
    task = TwoQueueTask([(0, 5), (0, 3), (1, 9), (1, 4)])
    at = _active("0_0", task)
    measured = sensors.lateness_batches(at, task.process_batch, stop_when_dry=True)
    assert measured(1_000_000) == 2  # partition 0 ran dry: readiness is checked again before partition 1
    assert measured(1) == 1  # and max_records holds
    assert measured(1_000_000) == 1
    values = sensors.values()["0_0"]
    assert values["record-lateness-max"] == 5  # 4 after 9
    assert values["record-lateness-avg"] == pytest.approx((0 + 2 + 0 + 5) / 4)
    # the source node's process-total / -rate (stream-processor-node-metrics, DEBUG): each record it processed
    nodes = sensors.node_values()
    assert nodes[("0_0", "KSTREAM-SOURCE-0000000000")]["process-total"] == 4
    assert nodes[("0_0", "KSTREAM-SOURCE-0000000000")]["process-rate"] > 0
    assert TaskSensors("INFO").node_values() == {}


def test_debug_on_a_real_task_that_idles_processes_exactly_as_info(tmp_path):
    """test_process_tasks_idling's dry-partition case at DEBUG: one record per call changes no batch boundary."""
    from tests.unit.runtime.test_process_tasks_idling import FakeConsumer, _records
    from tests.unit.runtime.test_process_tasks_idling import _active as idling_task

    metrics = ThreadMetrics({"metrics.recording.level": "DEBUG"})
    at = idling_task(tmp_path, "dbg")
    records = _records()
    at.task.add_records("a", 0, records["a"])
    at.task.add_records("c", 0, records["c"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (4, 9)})
    assert process_tasks([at], metrics, [1.0], consumer) == 11  # a@170 waits for c, as at INFO
    assert at.task.committable_offsets() == {("a", 0): 7, ("c", 0): 4}
    assert process_tasks([at], metrics, [1.0], consumer) == 0
    at.task.add_records("c", 0, [(4, 168, b"c4", b"late", ())])
    consumer.state[("c", 0)] = (5, 9)
    assert process_tasks([at], metrics, [1.0], consumer) == 1
    consumer.state[("c", 0)] = (9, 9)
    assert process_tasks([at], metrics, [1.0], consumer) == 1
    assert at.task.committable_offsets() == {("a", 0): 8, ("c", 0): 5}
    values = metrics.task_sensors.values()["0_0"]
    assert values["record-lateness-max"] == 0  # picked in timestamp order: none late
    assert values["process-latency-max"] > 0
    nodes = metrics.task_sensors.node_values()
    assert sum(v["process-total"] for v in nodes.values()) == 13
