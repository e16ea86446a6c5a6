"""Prometheus `/metrics`: Kafka Streams' metrics in the Prometheus text format (served by server.QueryServer).

Naming (one convention, the Prometheus JMX exporter's usual Kafka Streams mapping of the MBean
`kafka.streams:type=<group>,<tag>=<value>,...` attribute `<name>`): `kafka_streams_<group>_<name>` with every
character outside [a-zA-Z0-9_] as `_`, each Kafka tag a label (`-` as `_`), numbers as gauges. E.g.
`kafka_streams_stream_thread_metrics_process_rate{thread_id="app-1-StreamThread-1"}`; the consumer's groups are in
the `kafka.consumer` domain: `kafka_consumer_consumer_fetch_manager_metrics_records_lag{client_id=...,topic=...}`. The string metrics (version,
commit-id, application-id, topology-description, state), which the JMX exporter cannot export as values, are
Prometheus info series: `kafka_streams_stream_metrics_state_info{client_id="...",state="RUNNING"} 1`.

The names before that convention (_THREAD_METRICS / _TASK_METRICS below: `kafka_streams_stream_thread_*`,
`kafka_streams_stream_task_*`, `kafka_consumer_records_lag`, `kafka_streams_state_restore_*`,
`kafka_streams_active_tasks`) stay, as docs/interactive-queries-and-metrics.md and dashboards name them.
"""
from __future__ import annotations

import re
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def prometheus_name(group: str, name: str) -> str:
    """kafka_streams_<group>_<name> (kafka_consumer_<group>_<name> for the consumer's groups, whose MBeans are in
    the kafka.consumer domain), sanitized as the JMX exporter does."""
    domain = "kafka_consumer" if group.startswith("consumer-") else "kafka_streams"
    return _INVALID.sub("_", f"{domain}_{group}_{name}")


def prometheus_label(tag: str) -> str:
    return _INVALID.sub("_", tag)


def kafka_families(streams: Any) -> list[Any]:
    """client_metrics.kafka_metrics in the convention above: one family per (group, name)."""
    from pystreams.runtime.client_metrics import kafka_metrics

    families: dict[str, Any] = {}
    for metric, value in kafka_metrics(streams).items():
        labels = [prometheus_label(k) for k, _ in metric.tag_items]
        label_values = [v for _, v in metric.tag_items]
        prom = prometheus_name(metric.group, metric.name)
        text = metric.description or f"{metric.name} ({metric.group})"
        if isinstance(value, str):
            prom += "_info"
            labels, label_values = [*labels, prometheus_label(metric.name)], [*label_values, value]
            value = 1
        family = families.get(prom)
        if family is None:
            family = families[prom] = GaugeMetricFamily(prom, text)
        # per sample: one family may hold several tag sets (rocksdb-state-id and in-memory-state-id stores)
        family.add_sample(prom, dict(zip(labels, label_values)), float(value))
    return list(families.values())


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
    """Kafka Streams' metrics for Prometheus: the client, thread and task metrics by the convention above, then
    the earlier names; rates and latencies are Kafka's windowed stats (thread_metrics.ThreadMetrics), so scrapes
    reset nothing."""

    def __init__(self, streams: Any) -> None:
        self.streams = streams

    def collect(self) -> Any:
        from pystreams.runtime.thread_metrics import thread_values

        yield from kafka_families(self.streams)

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
