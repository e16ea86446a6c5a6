"""Prometheus `/metrics`: Kafka Streams' metrics in the Prometheus text format (served by server.QueryServer)."""
from __future__ import annotations

from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


_THREAD_METRICS = (
    # (Kafka name, Prometheus name, counter?, help)
    ("process-total", "kafka_streams_stream_thread_process", True, "records processed (process-total)"),
    ("process-rate", "kafka_streams_stream_thread_process_rate", False,
     "records processed per second over the sample window (process-rate)"),
    ("process-latency-avg", "kafka_streams_stream_thread_process_latency_avg", False,
     "ms per record of a processing pass, averaged over the window's passes (process-latency-avg)"),
    ("process-latency-max", "kafka_streams_stream_thread_process_latency_max", False,
     "largest ms per record of a processing pass in the window (process-latency-max)"),
    ("commit-total", "kafka_streams_stream_thread_commit", True, "commits (commit-total)"),
    ("commit-rate", "kafka_streams_stream_thread_commit_rate", False,
     "commits per second over the sample window (commit-rate)"),
    ("commit-latency-avg", "kafka_streams_stream_thread_commit_latency_avg", False,
     "average ms of a commit in the window (commit-latency-avg)"),
    ("commit-latency-max", "kafka_streams_stream_thread_commit_latency_max", False,
     "largest ms of a commit in the window (commit-latency-max)"),
    ("records-lag", "kafka_consumer_records_lag", False, "records behind the end of the input (records-lag)"),
    ("restore-total", "kafka_streams_state_restore", True, "changelog records restored (restore-total)"),
    ("restore-rate", "kafka_streams_state_restore_rate", False,
     "changelog records restored per second while restoring (restore-rate)"),
)


_TASK_METRICS = (
    # stream-task-metrics, per task_id as Kafka tags them (thread_metrics.TASK_COUNTERS)
    ("dropped-records-total", "kafka_streams_stream_task_dropped_records", True,
     "records the task dropped: bad input, handler CONTINUE, negative timestamps (dropped-records-total)"),
    ("dropped-records-rate", "kafka_streams_stream_task_dropped_records_rate", False,
     "records the task dropped per second over the sample window (dropped-records-rate)"),
    ("enforced-processing-total", "kafka_streams_stream_task_enforced_processing", True,
     "records processed although a partition had no data, after max.task.idle.ms (enforced-processing-total)"),
    ("enforced-processing-rate", "kafka_streams_stream_task_enforced_processing_rate", False,
     "records processed per second under enforced processing over the sample window (enforced-processing-rate)"),
)


class StreamsCollector:
    """Kafka Streams' metrics (stream-thread-metrics, task dropped records, consumer lag, restore) for Prometheus;
    rates and latencies are Kafka's windowed stats (thread_metrics.ThreadMetrics), so scrapes reset nothing."""

    def __init__(self, streams: Any) -> None:
        self.streams = streams

    def collect(self) -> Any:
        from pystreams.runtime.thread_metrics import thread_values

        labels = ["client_id", "thread_id"]
        families = {name: (CounterMetricFamily if counter else GaugeMetricFamily)(prom, text, labels=labels)
                    for name, prom, counter, text in _THREAD_METRICS}
        task_labels = [*labels, "task_id"]
        task_families = {name: (CounterMetricFamily if counter else GaugeMetricFamily)(prom, text, labels=task_labels)
                         for name, prom, counter, text in _TASK_METRICS}
        tasks = GaugeMetricFamily("kafka_streams_active_tasks", "active tasks", labels=labels)
        client = self.streams.client_id
        for t in list(self.streams.threads):
            key = [client, t.name]
            per_task: dict[str, dict[str, float]] = {}
            values = thread_values(t, per_task)
            for name, family in families.items():
                family.add_metric(key, values[name])
            for task_id, task_values in sorted(per_task.items()):
                for name, family in task_families.items():
                    family.add_metric([*key, task_id], task_values[name])
            tasks.add_metric(key, len(t.tasks))
        yield from families.values()
        yield from task_families.values()
        yield tasks
