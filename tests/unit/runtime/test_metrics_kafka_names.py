"""Kafka Streams' metrics by Kafka's names, groups and tags (client_metrics.kafka_metrics) and on /metrics by the
JMX exporter convention (metrics_exporter): stream-metrics, stream-thread-metrics (poll, ratios, tasks created /
closed, punctuate once wired), stream-task-metrics by metrics.recording.level, failed-stream-threads."""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime.client_metrics import (
    kafka_metrics,
    metric_name,
    recording_level,
)
from pystreams.runtime.kafka_streams import State
from pystreams.runtime.metrics_exporter import StreamsCollector
from pystreams.runtime.thread_metrics import ThreadMetrics, client_metrics

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Config(dict):
    application_id = "wordcount"


class Streams:
    """What the metrics read of a KafkaStreams (weak-referenceable, as the real one)."""

    def __init__(self, threads: list[Any], state: State = State.RUNNING, config: dict[str, str] | None = None):
        self.client_id, self.process_id, self.threads, self.state = "wc-1", "p-42", threads, state
        self.config = Config(config or {})
        self.topology = SimpleNamespace(describe=lambda: "Topologies:\n   Sub-topology: 0")


def _thread(name: str, m: ThreadMetrics, tasks: dict[str, Any] | None = None, alive: bool = True,
            restorer: Any = None, error: BaseException | None = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, metrics=m, tasks=tasks or {}, is_alive=lambda: alive, _standby=None,
                           _restorer=restorer, error=error)


def _task(dropped: int = 0, enforced: int = 0, restored: int = 0) -> SimpleNamespace:
    return SimpleNamespace(restored_records=restored,
                           task=SimpleNamespace(metrics=SimpleNamespace(dropped_records=dropped),
                                                idling=SimpleNamespace(enforced_processing_total=enforced)))


def test_one_loop_iteration_gives_poll_latency_ratios_and_blocked_time():
    clock = Clock()
    m = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    m.end_iteration()  # the previous iteration's end
    clock.t += 0.010
    m.polls += 1  # the poll phase: 10 ms
    clock.t += 0.060
    m.record_process(100, 60.0)
    clock.t += 0.020
    m.record_commit(20.0)
    clock.t += 0.010
    m.end_iteration()  # 100 ms in all
    assert m.polls == 1
    assert m.ratios["poll-ratio"] == pytest.approx(0.10)
    assert m.ratios["process-ratio"] == pytest.approx(0.60)
    assert m.ratios["commit-ratio"] == pytest.approx(0.20)
    assert m.ratios["punctuate-ratio"] == 0.0
    assert m.blocked_ns == pytest.approx(10_000_000, rel=1e-6)
    w = m.windowed()
    assert w["poll-latency-avg"] == pytest.approx(10.0) and w["poll-latency-max"] == pytest.approx(10.0)
    assert w["poll-rate"] > 0
    # the next iteration starts afresh: only its own phases count
    clock.t += 0.050
    m.polls += 1
    clock.t += 0.050
    m.end_iteration()
    assert m.ratios["poll-ratio"] == pytest.approx(0.5) and m.ratios["process-ratio"] == 0.0
    assert m.windowed()["poll-latency-max"] == pytest.approx(50.0)


def test_the_first_poll_counts_but_has_no_latency_without_an_iteration_start():
    m = ThreadMetrics(clock=Clock())
    m.polls += 1
    assert m.polls == 1 and math.isnan(m.windowed()["poll-latency-avg"]) and m.blocked_ns == 0


def test_tasks_created_and_closed_follow_the_partition_to_task_map_at_each_iteration_end():
    clock = Clock()
    m = ThreadMetrics(clock=clock)
    t0, t1, t2 = object(), object(), object()
    m.refresh_lag(None, {("in", 0): t0, ("in", 1): t1, ("in", 2): t1}, now=1.0)  # two tasks, one of 2 partitions
    assert (m.tasks_created, m.tasks_closed) == (2, 0)
    m.refresh_lag(None, {("in", 0): t0, ("in", 1): t1, ("in", 2): t1}, now=1.1)
    assert (m.tasks_created, m.tasks_closed) == (2, 0)
    m.refresh_lag(None, {("in", 0): t0, ("in", 1): t2}, now=1.2)  # t1 closed, t2 created
    assert (m.tasks_created, m.tasks_closed) == (3, 1)
    m.refresh_lag(None, {}, now=1.3)
    assert (m.tasks_created, m.tasks_closed) == (3, 3)
    assert m.windowed()["task-created-rate"] > 0 and m.windowed()["task-closed-rate"] > 0


def test_punctuate_metrics_only_once_the_loop_reports_punctuators():
    clock = Clock()
    m = ThreadMetrics(clock=clock)
    streams = Streams([_thread("wc-1-StreamThread-1", m)])
    name = metric_name("punctuate-total", "stream-thread-metrics", {"thread-id": "wc-1-StreamThread-1"})
    assert name not in kafka_metrics(streams)
    m.record_punctuate(0, 0.0)  # wired, nothing fired
    assert kafka_metrics(streams)[name] == 0
    m.end_iteration()
    clock.t += 0.1
    m.record_punctuate(4, 20.0)
    clock.t += 0.1
    m.end_iteration()
    got = kafka_metrics(streams)
    assert got[name] == 4
    thread_tags = {"thread-id": "wc-1-StreamThread-1"}
    assert got[metric_name("punctuate-latency-avg", "stream-thread-metrics", thread_tags)] == pytest.approx(5.0)
    assert got[metric_name("punctuate-ratio", "stream-thread-metrics", thread_tags)] == pytest.approx(0.1)


def test_client_level_metrics_have_kafkas_names_group_and_tags():
    m = ThreadMetrics()
    streams = Streams([_thread("wc-1-StreamThread-1", m), _thread("wc-1-StreamThread-2", ThreadMetrics(),
                                                                  alive=False)])
    got = kafka_metrics(streams)
    client = {"client-id": "wc-1"}
    assert got[metric_name("state", "stream-metrics", client)] == "RUNNING"
    assert got[metric_name("client-state", "stream-metrics", {**client, "process-id": "p-42"})] == 2  # ordinal
    assert got[metric_name("alive-stream-threads", "stream-metrics", client)] == 1
    assert got[metric_name("failed-stream-threads", "stream-metrics", client)] == 0
    assert got[metric_name("application-id", "stream-metrics", client)] == "wordcount"
    assert got[metric_name("topology-description", "stream-metrics", client)].startswith("Topologies:")
    assert isinstance(got[metric_name("version", "stream-metrics", client)], str)
    assert got[metric_name("commit-id", "stream-metrics", client)] == "unknown"
    thread = {"thread-id": "wc-1-StreamThread-1"}
    for name in ("poll-total", "poll-rate", "poll-latency-avg", "poll-latency-max", "task-created-total",
                 "task-created-rate", "task-closed-total", "task-closed-rate", "process-ratio", "poll-ratio",
                 "commit-ratio", "blocked-time-ns-total", "thread-start-time", "process-total", "commit-rate"):
        assert metric_name(name, "stream-thread-metrics", thread) in got, name
    start = got[metric_name("thread-start-time", "stream-thread-metrics", thread)]
    assert abs(start - m.start_time_ms) < 1 and start > 1.6e12  # epoch ms, as Kafka's
    streams.state = State.ERROR
    assert kafka_metrics(streams)[metric_name("client-state", "stream-metrics",
                                              {**client, "process-id": "p-42"})] == 6


def test_failed_stream_threads_counts_the_clients_stream_thread_failures_also_after_a_replacement():
    ok = _thread("wc-1-StreamThread-1", ThreadMetrics())
    streams = Streams([ok])
    failed = metric_name("failed-stream-threads", "stream-metrics", {"client-id": "wc-1"})
    assert kafka_metrics(streams)[failed] == 0
    streams.errors = [RuntimeError("boom")]  # thread 2 failed and REPLACE_THREAD already dropped it
    assert kafka_metrics(streams)[failed] == 1
    streams.global_state = SimpleNamespace(error=RuntimeError("global"))
    streams.errors.append(streams.global_state.error)  # the global thread is no stream thread
    assert kafka_metrics(streams)[failed] == 1
    streams.errors.append(RuntimeError("again"))
    assert client_metrics(streams)["failed-stream-threads"] == 2
    del streams.errors  # a client without the record: threads still listed with an error
    streams.threads.append(_thread("wc-1-StreamThread-3", ThreadMetrics(), alive=False, error=RuntimeError("x")))
    assert kafka_metrics(streams)[failed] == 1


def test_task_metrics_by_recording_level_and_restore_remaining():
    changelogs = {("cl", 1): SimpleNamespace(end=500, position=120), ("cl2", 1): SimpleNamespace(end=10, position=10)}
    restorer = SimpleNamespace(restoring={"0_1": SimpleNamespace(at=_task(restored=120), changelogs=changelogs)})
    thread = _thread("wc-1-StreamThread-1", ThreadMetrics(), tasks={"0_0": _task(dropped=3, enforced=2)},
                     restorer=restorer)
    info = kafka_metrics(Streams([thread]))
    tags = {"thread-id": "wc-1-StreamThread-1", "task-id": "0_0"}
    restoring = {"thread-id": "wc-1-StreamThread-1", "task-id": "0_1"}
    assert info[metric_name("dropped-records-total", "stream-task-metrics", tags)] == 3
    assert info[metric_name("restore-remaining-records-total", "stream-task-metrics", restoring)] == 380
    assert info[metric_name("restore-remaining-records-total", "stream-task-metrics", tags)] == 0
    assert metric_name("enforced-processing-total", "stream-task-metrics", tags) not in info  # DEBUG in Kafka
    assert metric_name("restore-total", "stream-task-metrics", restoring) not in info
    debug = kafka_metrics(Streams([thread], config={"metrics.recording.level": "DEBUG"}))
    assert debug[metric_name("enforced-processing-total", "stream-task-metrics", tags)] == 2
    assert debug[metric_name("restore-total", "stream-task-metrics", restoring)] == 120
    assert client_metrics(Streams([thread]))["restore-remaining-records-total"] == 380


def test_recording_level_is_kafkas_config():
    assert recording_level({}) == "INFO"
    assert recording_level({"metrics.recording.level": "TRACE"}) == "TRACE"
    with pytest.raises(ConfigError, match="Invalid value info for configuration metrics.recording.level: String "
                                          "must be one of: INFO, DEBUG, TRACE"):
        recording_level({"metrics.recording.level": "info"})


def test_metrics_keeps_its_flat_names_and_offers_kafkas_map():
    m = ThreadMetrics()
    m.record_process(10, 1.0)
    streams = Streams([_thread("wc-1-StreamThread-1", m)])
    flat = streams_metrics = client_metrics(streams)
    assert flat["process-total"] == 10 and flat["alive-stream-threads"] == 1 and flat["client-state"] == 2
    full = streams_metrics.by_metric_name()
    assert full[metric_name("process-total", "stream-thread-metrics", {"thread-id": "wc-1-StreamThread-1"})] == 10


def _samples(streams: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in StreamsCollector(streams).collect()
            for s in family.samples}


def test_prometheus_names_follow_the_jmx_exporter_convention_and_the_old_names_stay():
    m = ThreadMetrics()
    m.record_process(7, 1.0)
    streams = Streams([_thread("wc-1-StreamThread-1", m, tasks={"0_0": _task(dropped=1)})])
    got = _samples(streams)
    thread = (("thread_id", "wc-1-StreamThread-1"),)
    assert got[("kafka_streams_stream_thread_metrics_process_total", thread)] == 7
    assert ("kafka_streams_stream_thread_metrics_poll_latency_avg", thread) in got
    assert got[("kafka_streams_stream_metrics_alive_stream_threads", (("client_id", "wc-1"),))] == 1
    assert got[("kafka_streams_stream_metrics_state_info", (("client_id", "wc-1"), ("state", "RUNNING")))] == 1
    assert got[("kafka_streams_stream_metrics_client_state", (("client_id", "wc-1"), ("process_id", "p-42")))] == 2
    task = (("task_id", "0_0"), ("thread_id", "wc-1-StreamThread-1"))
    assert got[("kafka_streams_stream_task_metrics_dropped_records_total", task)] == 1
    assert not any(name.startswith("kafka_streams_stream_task_metrics_enforced") for name, _ in got)  # INFO
    # the earlier names (docs/interactive-queries-and-metrics.md)
    legacy = (("client_id", "wc-1"), ("thread_id", "wc-1-StreamThread-1"))
    assert got[("kafka_streams_stream_thread_process_total", legacy)] == 7
    assert ("kafka_streams_active_tasks", legacy) in got


def test_a_bad_recording_level_fails_when_the_thread_metrics_are_configured():
    assert ThreadMetrics({"metrics.recording.level": "DEBUG"}).recording_level == "DEBUG"
    assert ThreadMetrics().recording_level == "INFO"
    with pytest.raises(ConfigError, match="metrics.recording.level"):
        ThreadMetrics({"metrics.recording.level": "VERBOSE"})


def _active(task_id: str, queues: dict[tuple[str, int], Any]) -> SimpleNamespace:
    return SimpleNamespace(id=task_id, task=SimpleNamespace(_queues=queues))


def _queue(ptime: int, node: str = "KSTREAM-SOURCE-0000000000") -> SimpleNamespace:
    return SimpleNamespace(partition_time=ptime, source=SimpleNamespace(name=node))


def test_record_e2e_latency_of_source_nodes_is_sampled_once_per_iteration_per_moved_partition():
    import time as _time

    clock = Clock()
    m = ThreadMetrics(clock=clock)
    wall = _time.time() * 1000
    q0, q1 = _queue(int(wall - 5000)), _queue(-1)  # partition 1: nothing processed yet
    at = _active("0_0", {("in", 0): q0, ("in", 1): q1})
    m.refresh_lag(None, {("in", 0): at, ("in", 1): at}, now=1.0)
    m.refresh_lag(None, {("in", 0): at, ("in", 1): at}, now=1.1)  # no new record: no second sample
    (stat,) = m.e2e._stats.values()
    assert sum(sample[2] for sample in stat.samples) == 1  # one recorded value
    q0.partition_time = int(wall - 1000)
    m.refresh_lag(None, {("in", 0): at, ("in", 1): at}, now=1.2)
    streams = Streams([_thread("wc-1-StreamThread-1", m, tasks={"0_0": at})])
    got = kafka_metrics(streams)
    tags = {"thread-id": "wc-1-StreamThread-1", "task-id": "0_0", "processor-node-id": "KSTREAM-SOURCE-0000000000"}
    group = "stream-processor-node-metrics"
    assert 1000 <= got[metric_name("record-e2e-latency-min", group, tags)] < 1000 + 2000
    assert 5000 <= got[metric_name("record-e2e-latency-max", group, tags)] < 5000 + 2000
    assert got[metric_name("record-e2e-latency-avg", group, tags)] == pytest.approx(
        (got[metric_name("record-e2e-latency-min", group, tags)]
         + got[metric_name("record-e2e-latency-max", group, tags)]) / 2)
    samples = _samples(streams)
    assert (("kafka_streams_stream_processor_node_metrics_record_e2e_latency_max",
             (("processor_node_id", "KSTREAM-SOURCE-0000000000"), ("task_id", "0_0"),
              ("thread_id", "wc-1-StreamThread-1")))) in samples
    m.refresh_lag(None, {}, now=1.3)  # the task closed: its node metrics go
    assert not any(n.group == group for n in kafka_metrics(Streams([_thread("t", m)])))


def test_e2e_latency_stat_is_kafkas_avg_min_max_over_the_sample_windows():
    from pystreams.runtime.node_metrics import _AvgMinMax

    stat = _AvgMinMax(1000, 2)
    assert all(math.isnan(v) for v in stat.measure(0))
    stat.record(7, 0)
    stat.record(3, 10)
    stat.record(5, 1500)  # the second sample
    assert stat.measure(1600) == (5.0, 3, 7)
    assert stat.measure(2100) == (5.0, 5, 5)  # the first sample expired (2 x 1000 ms)
    stat.record(9, 2200)  # the ring reuses the first sample
    assert stat.measure(2300) == (7.0, 5, 9)


def test_records_lag_per_partition_and_records_lag_max_as_the_consumers_metrics():
    from tests.unit.runtime.test_thread_metrics import FakeConsumer

    clock = Clock()
    m = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    consumer = FakeConsumer({("in", 0): 10, ("in", 1): 5, ("in", 2): -1001}, {("in", 0): 40, ("in", 1): 5})
    m.refresh_lag(consumer, [("in", 0), ("in", 1), ("in", 2)], now=100.0)
    streams = Streams([_thread("wc-1-StreamThread-1", m)])
    got = kafka_metrics(streams)
    group, client = "consumer-fetch-manager-metrics", "wc-1-StreamThread-1-consumer"
    assert got[metric_name("records-lag", group, {"client-id": client, "topic": "in", "partition": "0"})] == 30
    assert got[metric_name("records-lag", group, {"client-id": client, "topic": "in", "partition": "1"})] == 0
    assert metric_name("records-lag", group, {"client-id": client, "topic": "in", "partition": "2"}) not in got
    assert got[metric_name("records-lag-max", group, {"client-id": client})] == 30
    consumer.positions[("in", 0)] = 40
    clock.t += 0.5
    m.refresh_lag(consumer, [("in", 0), ("in", 1)], now=101.0)
    got = kafka_metrics(streams)
    assert got[metric_name("records-lag", group, {"client-id": client, "topic": "in", "partition": "0"})] == 0
    assert got[metric_name("records-lag-max", group, {"client-id": client})] == 30  # still in the window
    clock.t += 2.0
    m.refresh_lag(consumer, [("in", 0), ("in", 1)], now=103.0)
    assert kafka_metrics(streams)[metric_name("records-lag-max", group, {"client-id": client})] == 0
    samples = _samples(streams)
    assert samples[("kafka_consumer_consumer_fetch_manager_metrics_records_lag",
                    (("client_id", client), ("partition", "0"), ("topic", "in")))] == 0
    assert client_metrics(streams)["records-lag"] == 0


def test_standby_tasks_report_kafkas_update_total_and_rate_at_debug_only():
    clock = Clock()
    m = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    standby = SimpleNamespace(tasks={"1_0": SimpleNamespace(updated=0, task=SimpleNamespace(stores={}))})
    thread = _thread("wc-1-StreamThread-1", m, {"0_0": _task()})
    thread._standby = standby
    tags = {"thread-id": "wc-1-StreamThread-1", "task-id": "1_0"}
    total = metric_name("update-total", "stream-task-metrics", tags)
    rate = metric_name("update-rate", "stream-task-metrics", tags)
    assert total not in kafka_metrics(Streams([thread]))  # INFO: Kafka's update sensor is DEBUG
    debug = Streams([thread], config={"metrics.recording.level": "DEBUG"})
    assert kafka_metrics(debug)[total] == 0
    standby.tasks["1_0"].updated = 500  # changelog records applied
    clock.t += 1.0
    got = kafka_metrics(debug)
    assert got[total] == 500
    assert got[rate] == pytest.approx(500 / 1.0)  # one window of 1 s, padded to samples - 1 windows
    # the standby has no active-task metrics, the active task no update metrics
    assert metric_name("process-total", "stream-task-metrics", tags) not in got
    assert metric_name("update-total", "stream-task-metrics", {**tags, "task-id": "0_0"}) not in got
    del standby.tasks["1_0"]  # the standby moved away: its metrics go with it
    assert total not in kafka_metrics(debug)
