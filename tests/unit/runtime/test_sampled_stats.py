"""Kafka's windowed stats (Rate over samples, Avg, Max) and the stream thread's metrics built on them, with a fake
clock: values after N records, rates over a controlled window, reads that reset nothing, old samples expiring."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime.sampled_stats import (
    SampledStat,
    WindowedAvg,
    WindowedMax,
    WindowedRate,
)
from pystreams.runtime.server import metrics_port
from pystreams.runtime.thread_metrics import ThreadMetrics, client_metrics

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_rate_pads_a_young_window_to_num_samples_minus_one_windows_like_kafka():
    rate = WindowedRate("sum", window_ms=30_000, samples=2)
    rate.record(300, now_ms=0)
    # 10 s after the first sample: elapsed 10 s < 1 full window, so the window is 10 + 30 s (Kafka's windowSize)
    assert rate.measure(10_000) == pytest.approx(300 / 40)
    rate.record(300, now_ms=35_000)  # a second sample starts (the first is a window old)
    assert rate.measure(40_000) == pytest.approx(600 / 40)  # 40 s since the oldest sample: no padding
    assert rate.measure(40_000) == pytest.approx(600 / 40)  # reading again changes nothing


def test_samples_expire_after_num_samples_windows():
    rate = WindowedRate("sum", window_ms=1000, samples=2)
    for i in range(10):
        rate.record(10, now_ms=i * 100)  # 100 records in the first second
    assert rate.measure(1000) == pytest.approx(100 / 1.0)  # 1 s elapsed = 1 full window: no padding
    assert rate.measure(2500) == 0.0  # the only sample started 2 windows ago: obsolete
    rate.record(50, now_ms=2600)
    # the purged sample restarted at 2500 and took the record: 0.6 s elapsed, padded by one window
    assert rate.measure(3100) == pytest.approx(50 / 1.6)


def test_count_rate_counts_calls_not_values():
    rate = WindowedRate("count", window_ms=1000, samples=2)
    for i in range(4):
        rate.record(123.0, now_ms=i * 250)
    assert rate.measure(1000) == pytest.approx(4 / 1.0)


def test_avg_and_max_are_nan_without_values_and_cover_only_the_window():
    avg, mx = WindowedAvg(1000, 2), WindowedMax(1000, 2)
    assert math.isnan(avg.measure(0)) and math.isnan(mx.measure(0))
    for now, value in ((0, 5.0), (100, 1.0), (1200, 3.0)):
        avg.record(value, now)
        mx.record(value, now)
    assert avg.measure(1500) == pytest.approx(3.0) and mx.measure(1500) == 5.0
    assert avg.measure(2100) == pytest.approx(3.0) and mx.measure(2100) == 3.0  # the 5.0 sample expired


def test_bad_window_config_is_refused():
    with pytest.raises(ValueError):
        SampledStat("sum", window_ms=0)
    with pytest.raises(ValueError):
        SampledStat("median")


def test_thread_metrics_after_n_records_and_commits_with_kafka_semantics():
    clock = Clock(100.0)
    m = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    # the stream loop's plain-counter style (runtime/processing.py, stream_thread.py)
    m.processed += 400
    m.process_ms += 40.0   # 0.1 ms per record
    clock.t += 0.5
    m.processed += 100
    m.process_ms += 30.0   # 0.3 ms per record
    m.record_process(500, 50.0)  # the method style: 0.1 ms per record
    m.commits += 1
    m.last_commit_ms = 8.0
    m.record_commit(2.0)
    clock.t += 0.5
    w = m.windowed()
    assert m.processed == 1000 and m.commits == 2
    assert w["process-rate"] == pytest.approx(1000 / 1.0)  # 1 s since the first sample (1 full window)
    assert w["process-latency-avg"] == pytest.approx((0.1 + 0.3 + 0.1) / 3)  # Kafka: mean of the passes
    assert w["process-latency-max"] == pytest.approx(0.3)
    assert w["commit-rate"] == pytest.approx(2 / 1.5)  # its first sample is 0.5 s old: padded by one window
    assert w["commit-latency-avg"] == pytest.approx(5.0) and w["commit-latency-max"] == 8.0
    assert m.windowed() == w  # a second reader sees the same numbers
    clock.t += 2.0  # two windows later nothing is in the window, the totals stay
    later = m.windowed()
    assert later["process-rate"] == 0.0 and math.isnan(later["process-latency-max"]) and m.processed == 1000


def test_client_metrics_use_kafka_names_and_count_dropped_records_of_live_tasks():
    clock = Clock(10.0)
    metrics = [ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
               for _ in range(2)]
    tasks = [{"0_0": SimpleNamespace(task=SimpleNamespace(metrics=SimpleNamespace(dropped_records=0))),
              "0_1": SimpleNamespace(task=SimpleNamespace(metrics=SimpleNamespace(dropped_records=0)))},
             {}]
    threads = [SimpleNamespace(metrics=m, tasks=t, is_alive=lambda: True, _standby=None)
               for m, t in zip(metrics, tasks)]
    streams = SimpleNamespace(threads=threads)
    metrics[0].record_process(30, 3.0)
    metrics[1].record_process(70, 14.0)
    first = client_metrics(streams)
    assert first["dropped-records-total"] == 0
    tasks[0]["0_0"].task.metrics.dropped_records = 3
    tasks[0]["0_1"].task.metrics.dropped_records = 2
    clock.t += 1.0
    out = client_metrics(streams)
    assert out["process-total"] == 100 and out["dropped-records-total"] == 5
    assert out["process-rate"] == pytest.approx(100 / 1.0)
    assert out["dropped-records-rate"] == pytest.approx(5 / 1.0)
    assert out["process-latency-avg"] == pytest.approx((0.1 + 0.2) / 2)
    assert out["process-latency-max"] == pytest.approx(0.2)
    assert math.isnan(out["commit-latency-max"])  # no commit recorded anywhere
    assert out["active-tasks"] == 2
    assert {"process-total", "process-rate", "process-latency-avg", "process-latency-max", "commit-total",
            "commit-rate", "commit-latency-avg", "commit-latency-max", "dropped-records-total",
            "dropped-records-rate", "restore-total", "records-lag"} <= set(out)


def test_metrics_http_port_parsing():
    assert metrics_port({}) is None and metrics_port({"metrics.http.port": ""}) is None
    assert metrics_port({"metrics.http.port": "9464"}) == 9464 and metrics_port({"metrics.http.port": 0}) == 0
    for bad in ("http", 70000, "-5"):
        with pytest.raises(ConfigError, match="metrics.http.port"):
            metrics_port({"metrics.http.port": bad})


def test_configure_takes_the_window_from_the_app_config_and_refuses_bad_values():
    clock = Clock(0.0)
    m = ThreadMetrics(clock=clock)
    assert (m.window_ms, m.num_samples) == (30_000.0, 2)  # Kafka's defaults
    m.configure({"metrics.sample.window.ms": "2000", "metrics.num.samples": "3"})
    assert (m.window_ms, m.num_samples) == (2000.0, 3)
    m.record_process(100, 5.0)
    clock.t = 1.0
    assert m.windowed()["process-rate"] == pytest.approx(100 / 5.0)  # 1 s plus 2 (samples - 1) windows of 2 s
    for bad in ({"metrics.sample.window.ms": "soon"}, {"metrics.num.samples": -1}, {"metrics.sample.window.ms": -5}):
        with pytest.raises(ConfigError, match="metrics"):
            ThreadMetrics(bad)


def test_prometheus_has_dropped_records_per_task_and_thread_series():
    from pystreams.runtime.server import StreamsCollector

    clock = Clock(0.0)
    m = ThreadMetrics({"metrics.sample.window.ms": 1000, "metrics.num.samples": 2}, clock=clock)
    counters = {"0_0": SimpleNamespace(dropped_records=0), "1_0": SimpleNamespace(dropped_records=0)}
    thread = SimpleNamespace(name="app-StreamThread-1", metrics=m, is_alive=lambda: True, _standby=None,
                             tasks={tid: SimpleNamespace(task=SimpleNamespace(metrics=c)) for tid, c in counters.items()})
    collector = StreamsCollector(SimpleNamespace(client_id="app-1", threads=[thread]))

    def samples() -> dict[tuple[str, str], float]:
        return {(s.name, s.labels.get("task_id", "")): s.value for family in collector.collect()
                for s in family.samples}

    samples()  # the first read sees nothing dropped
    counters["0_0"].dropped_records, counters["1_0"].dropped_records = 3, 1
    clock.t = 1.0
    got = samples()
    assert got[("kafka_streams_stream_task_dropped_records_total", "0_0")] == 3
    assert got[("kafka_streams_stream_task_dropped_records_total", "1_0")] == 1
    assert got[("kafka_streams_stream_task_dropped_records_rate", "0_0")] == pytest.approx(3 / 1.0)
    assert got[("kafka_streams_stream_thread_process_total", "")] == 0
    del thread.tasks["1_0"]  # the task moved away: its series go, as Kafka removes a closed task's metrics
    assert ("kafka_streams_stream_task_dropped_records_total", "1_0") not in samples()
