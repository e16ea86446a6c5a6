"""Kafka Streams' metrics as Kafka names them: MetricName(name, group, tags) -> value, at the recording level
`metrics.recording.level` selects (INFO by default; DEBUG adds the task-level metrics Kafka records at DEBUG).

Groups and tags as Kafka's StreamsMetricsImpl: `stream-metrics` (client-id; client-state also process-id),
`stream-thread-metrics` (thread-id), `stream-task-metrics` (thread-id, task-id; task_metrics.py; a standby task's
update-rate/-total at DEBUG), `stream-processor-node-metrics` (thread-id, task-id, processor-node-id:
record-e2e-latency of source and sink nodes, node_metrics.py; process-rate/-total of source nodes at DEBUG,
task_metrics.py), at DEBUG/TRACE `stream-state-metrics` (thread-id, task-id, <scope>-state-id) and
`stream-record-cache-metrics` (thread-id, task-id, record-cache-id) (state/internals/store_metrics.py), and the main
consumer's `consumer-fetch-manager-metrics` records-lag (client-id, topic, partition) / records-lag-max. Values are
read, never reset: the stream threads record, readers (KafkaStreams.metrics(), /metrics) only look
(thread_metrics.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pystreams
from pystreams.errors import ConfigError
from pystreams.runtime.task_metrics import (
    STANDBY_TASK_METRICS,
    TASK_METRICS,
    store_metric_values,
    task_values,
)
from pystreams.runtime.thread_metrics import standby_counters, thread_values

CLIENT_GROUP = "stream-metrics"
THREAD_GROUP = "stream-thread-metrics"
TASK_GROUP = "stream-task-metrics"
NODE_GROUP = "stream-processor-node-metrics"
#: the main consumer's group (KafkaStreams#metrics() includes its clients' metrics); client-id <thread>-consumer
CONSUMER_FETCH_GROUP = "consumer-fetch-manager-metrics"

#: Kafka's Sensor.RecordingLevel, lowest first (a sensor records when its level <= the configured one)
RECORDING_LEVELS = ("INFO", "DEBUG", "TRACE")
RECORDING_LEVEL_CONFIG = "metrics.recording.level"

#: KafkaStreams.State in Kafka's declaration order: client-state is the ordinal (KIP-1091)
_STATE_ORDINALS = {name: i for i, name in enumerate(
    ("CREATED", "REBALANCING", "RUNNING", "PENDING_SHUTDOWN", "NOT_RUNNING", "PENDING_ERROR", "ERROR"))}

#: stream-thread-metrics (ThreadMetrics.java: all INFO); punctuate-* only once the loop measures punctuators
THREAD_METRICS = ("process-total", "process-rate", "process-latency-avg", "process-latency-max",
                  "commit-total", "commit-rate", "commit-latency-avg", "commit-latency-max",
                  "poll-total", "poll-rate", "poll-latency-avg", "poll-latency-max",
                  "task-created-total", "task-created-rate", "task-closed-total", "task-closed-rate",
                  "process-ratio", "poll-ratio", "commit-ratio", "blocked-time-ns-total", "thread-start-time",
                  "process-records-avg", "process-records-max", "poll-records-avg", "poll-records-max")
PUNCTUATE_METRICS = ("punctuate-total", "punctuate-rate", "punctuate-latency-avg", "punctuate-latency-max",
                     "punctuate-ratio")
#: stream-task-metrics: (name, Kafka's recording level) (TaskMetrics.java): task_metrics.TASK_METRICS

DESCRIPTIONS = {
    "version": "The version of the Kafka Streams client",
    "commit-id": "The version control commit ID of the Kafka Streams client",
    "application-id": "The application ID of the Kafka Streams client",
    "topology-description": "The description of the topology executed in the Kafka Streams client",
    "state": "The state of the Kafka Streams client",
    "client-state": "The state of the Kafka Streams client as a number (the ordinal of KafkaStreams.State)",
    "alive-stream-threads": "The current number of alive stream threads that are running or participating in "
                            "rebalance",
    "failed-stream-threads": "The number of failed stream threads since the start of the Kafka Streams client",
}


@dataclass(frozen=True)
class MetricName:
    """Kafka's MetricName: equal (and hashed) by name, group and tags; the description does not count."""

    name: str
    group: str
    tag_items: tuple[tuple[str, str], ...] = ()
    description: str = field(default="", compare=False)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.tag_items)


def metric_name(name: str, group: str, tags: dict[str, str], description: str = "") -> MetricName:
    """A MetricName with its tags in a canonical (sorted) order."""
    return MetricName(name, group, tuple(sorted(tags.items())), description)


def recording_level(config: Any) -> str:
    """metrics.recording.level: INFO (Kafka's default), DEBUG or TRACE; anything else is Kafka's config error."""
    get = getattr(config, "get", None)
    value = get(RECORDING_LEVEL_CONFIG) if get is not None else None
    if value is None:
        return "INFO"
    if value not in RECORDING_LEVELS:
        raise ConfigError(f"Invalid value {value} for configuration {RECORDING_LEVEL_CONFIG}: String must be one "
                          f"of: {', '.join(RECORDING_LEVELS)}")
    return str(value)


def records(level: str, at: str) -> bool:
    """Whether a sensor of level `at` records under the configured `level`."""
    return RECORDING_LEVELS.index(at) <= RECORDING_LEVELS.index(level)


def failed_stream_threads(streams: Any) -> int:
    """failed-stream-threads (Kafka's sum since the client started): the stream-thread failures the client
    recorded (KafkaStreams.errors holds every failed thread's exception, a replaced thread's too; the global
    thread's is not a stream thread's)."""
    errors = getattr(streams, "errors", None)
    if errors is None:  # a client without the record: the threads still listed with an error
        return sum(1 for t in _stream_threads(streams) if getattr(t, "error", None) is not None)
    global_error = getattr(getattr(streams, "global_state", None), "error", None)
    return sum(1 for e in list(errors) if e is not global_error)


def _stream_threads(streams: Any) -> list[Any]:
    return list(getattr(streams, "threads", []))


def _topology_description(streams: Any) -> str:
    describe = getattr(getattr(streams, "topology", None), "describe", None)
    try:
        return str(describe()) if callable(describe) else ""
    except Exception:  # noqa: BLE001 - a metric read must not fail on a topology that cannot describe itself
        return ""


def client_values(streams: Any) -> dict[str, Any]:
    """The stream-metrics group (ClientMetrics.java, all INFO) by name: strings for version, commit-id,
    application-id, topology-description and state, numbers for the rest."""
    threads = _stream_threads(streams)
    state = getattr(streams, "state", None)
    state_name = str(getattr(state, "name", state or "CREATED"))
    config = getattr(streams, "config", None)
    return {"version": pystreams.__version__, "commit-id": "unknown",  # Kafka's value when it has none
            "application-id": str(getattr(config, "application_id", "") or ""),
            "topology-description": _topology_description(streams),
            "state": state_name, "client-state": _STATE_ORDINALS.get(state_name, -1),
            "alive-stream-threads": sum(1 for t in threads if t.is_alive()),
            "failed-stream-threads": failed_stream_threads(streams)}


def kafka_metrics(streams: Any) -> dict[MetricName, Any]:
    """Every metric Kafka Streams would list in KafkaStreams#metrics() that pystreams measures, at the configured
    metrics.recording.level: client, thread and task level, keyed by Kafka's MetricName."""
    level = recording_level(getattr(streams, "config", None))
    client_id = str(getattr(streams, "client_id", ""))
    out: dict[MetricName, Any] = {}
    for name, value in client_values(streams).items():
        tags = {"client-id": client_id}
        if name == "client-state":
            tags["process-id"] = str(getattr(streams, "process_id", ""))
        out[metric_name(name, CLIENT_GROUP, tags, DESCRIPTIONS[name])] = value
    for thread in _stream_threads(streams):
        per_task: dict[str, dict[str, float]] = {}
        values = thread_values(thread, per_task)
        tags = {"thread-id": thread.name}
        names = THREAD_METRICS + (PUNCTUATE_METRICS if thread.metrics.punctuate_wired else ())
        for name in names:
            out[metric_name(name, THREAD_GROUP, tags)] = values[name]
        now_ms = thread.metrics._clock() * 1000.0
        for (task_id, node), node_values in sorted(thread.metrics.e2e.values(now_ms).items()):
            node_tags = {"thread-id": thread.name, "task-id": task_id, "processor-node-id": node}
            for name, value in node_values.items():
                out[metric_name(name, NODE_GROUP, node_tags)] = value
        for (task_id, node), node_values in sorted(thread.metrics.task_sensors.node_values().items()):  # DEBUG
            node_tags = {"thread-id": thread.name, "task-id": task_id, "processor-node-id": node}
            for name, value in node_values.items():
                out[metric_name(name, NODE_GROUP, node_tags)] = value
        consumer = f"{thread.name}-consumer"
        for (topic, partition), lag in sorted(dict(thread.metrics.partition_lag).items()):
            tags = {"client-id": consumer, "topic": topic, "partition": str(partition)}
            out[metric_name("records-lag", CONSUMER_FETCH_GROUP, tags)] = lag
        out[metric_name("records-lag-max", CONSUMER_FETCH_GROUP, {"client-id": consumer})] = (
            thread.metrics.records_lag_max())
        for task_id, by_name in sorted(task_values(thread, per_task, records(level, "DEBUG")).items()):
            task_tags = {"thread-id": thread.name, "task-id": task_id}
            for name, at in TASK_METRICS:
                if records(level, at) and name in by_name:
                    out[metric_name(name, TASK_GROUP, task_tags)] = by_name[name]
        for task_id, by_name in sorted(thread.metrics.note_standby(standby_counters(thread)).items()):
            task_tags = {"thread-id": thread.name, "task-id": task_id}
            for name, at in STANDBY_TASK_METRICS:
                if records(level, at):
                    out[metric_name(name, TASK_GROUP, task_tags)] = by_name[name]
        for group, store_tags, store_values in store_metric_values(thread):
            for name, value in store_values.items():
                out[metric_name(name, group, store_tags)] = value
    return out


#: summary(): summed over the threads; latency averages averaged, maxima maxed (over threads with a value)
_SUMMED = ("process-total", "process-rate", "commit-total", "commit-rate", "dropped-records-total",
           "dropped-records-rate", "enforced-processing-total", "restore-total", "records-lag", "poll-total",
           "poll-rate", "punctuate-total", "punctuate-rate", "task-created-total", "task-created-rate",
           "task-closed-total", "task-closed-rate", "blocked-time-ns-total", "restore-remaining-records-total")
_COMBINED = (("process-latency-avg", "avg"), ("process-latency-max", "max"), ("commit-latency-avg", "avg"),
             ("commit-latency-max", "max"), ("poll-latency-avg", "avg"), ("poll-latency-max", "max"),
             ("punctuate-latency-avg", "avg"), ("punctuate-latency-max", "max"))


class StreamsMetrics(dict):  # type: ignore[type-arg]
    """KafkaStreams.metrics(): {Kafka metric name: number} over the whole client (as before), plus
    by_metric_name() for Kafka's full view (every group and tag: per thread, per task, string values)."""

    def __init__(self, streams: Any, values: dict[str, float]) -> None:
        super().__init__(values)
        self._streams = streams

    def by_metric_name(self) -> dict[MetricName, Any]:
        """Kafka's Map<MetricName, Metric> view (read now): client_metrics.kafka_metrics."""
        return kafka_metrics(self._streams)


def summary(streams: Any) -> StreamsMetrics:
    """Kafka's metric names over all stream threads: totals and rates summed, latency averages averaged and
    maxima maxed over the threads that recorded any (NaN when none did in the window); the client's numeric
    stream-metrics (alive-stream-threads, failed-stream-threads, client-state); "active-tasks" /
    "standby-tasks" are pystreams' own (the `pystreams run` summary line reads them)."""
    threads = _stream_threads(streams)
    per_thread = [thread_values(t) for t in threads]
    out: dict[str, float] = {name: sum(v[name] for v in per_thread) for name in _SUMMED}
    for name, combine in _COMBINED:
        seen = [v[name] for v in per_thread if not math.isnan(v[name])]
        out[name] = (max(seen) if combine == "max" else sum(seen) / len(seen)) if seen else math.nan
    out["active-tasks"] = sum(len(t.tasks) for t in threads)
    out["standby-tasks"] = sum(len(t._standby.tasks) for t in threads if getattr(t, "_standby", None) is not None)
    client = client_values(streams)
    for name in ("alive-stream-threads", "failed-stream-threads", "client-state"):
        out[name] = client[name]
    return StreamsMetrics(streams, out)
