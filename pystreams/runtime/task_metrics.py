"""Kafka's stream-task-metrics that need timing (TaskMetrics.java): active-process-ratio (INFO), process-latency and
punctuate-latency (DEBUG, in ns as Kafka's maybeMeasureLatency), recorded per task per processing pass, never per
record, so an INFO thread pays one clock read and one dict update per task per pass.

The counting task metrics (process-, punctuate-, dropped-records-, enforced-processing-, restore-rate/-total) come
from the tasks' own counters, sampled when metrics are read (thread_metrics.TASK_COUNTERS): nothing on the hot path.

Semantics as Kafka's StreamTask / TaskExecutor:
- active-process-ratio: a task's processing time over all active tasks' processing time in one poll-loop iteration
  (Kafka's recordProcessTimeRatioAndBufferSize after each runOnce); a value metric (the last iteration's). An
  iteration that processed nothing keeps the last value (Kafka divides 0 by 0 there: NaN).
- process-latency-avg/-max (DEBUG): each record's processing in ns, as Kafka times each record's process(); the
  DEBUG path processes one record per call (below), so each call is timed.
- punctuate-latency-avg/-max: the ns a task's due punctuators (stream-time or wall-clock) took in one pass; Kafka
  times each punctuator call, which differs only when several of one task are due at once.
- process-rate/-total of source nodes (stream-processor-node-metrics, DEBUG): the records each source node
  processed, counted on the same DEBUG path (the task-level process-* are the task's own counter).
- record-lateness-avg/-max (DEBUG): per record, as Kafka's PartitionGroup: stream time minus the record's timestamp
  when the record is not newer, else 0. It needs each record's stream time, so at DEBUG a task's records are
  processed one call per record (TaskSensors.lateness_batches); INFO keeps the one call per batch.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from pystreams.runtime.sampled_stats import WindowedAvg, WindowedMax, WindowedRate

#: metrics.recording.level values, lowest first (client_metrics.RECORDING_LEVELS)
_LEVELS = ("INFO", "DEBUG", "TRACE")


class _AvgMax:
    __slots__ = ("avg", "max")

    def __init__(self, window_ms: float, samples: int) -> None:
        self.avg = WindowedAvg(window_ms, samples)
        self.max = WindowedMax(window_ms, samples)

    def record(self, value: float, now_ms: float) -> None:
        self.avg.record(value, now_ms)
        self.max.record(value, now_ms)


class TaskSensors:
    """The timed task-level sensors of one stream thread, keyed by the running task's identity (its ActiveTask's
    id(): nothing to look up per pass; the task's `id` becomes Kafka's task-id string only when read). Recorded on
    the stream thread, read under the lock from any thread."""

    def __init__(self, level: str = "INFO", window_ms: float = 30_000, samples: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.level = level
        #: DEBUG or TRACE: process- and punctuate-latency are recorded (the processing loop checks this flag)
        self.debug = _LEVELS.index(level) >= 1
        self.window_ms, self.samples = window_ms, samples
        self._clock = clock
        self._lock = threading.Lock()
        self._pass_s: dict[int, float] = {}  # id(task) -> seconds processing it in the current iteration
        # id(task) -> (task, its active-process-ratio of the last iteration that processed anything)
        self._ratio: dict[int, tuple[Any, float]] = {}
        self._process: dict[int, tuple[Any, _AvgMax]] = {}  # id(task) -> (task, stats)
        self._punctuate: dict[int, tuple[Any, _AvgMax]] = {}
        self._lateness: dict[int, tuple[Any, _AvgMax]] = {}
        # id(task) -> (task, {source node: [process-total, process-rate]}) (DEBUG)
        self._sources: dict[int, tuple[Any, dict[str, list[Any]]]] = {}

    def record_process(self, task: Any, records: int, seconds: float) -> None:
        """One pass over a task's buffered records: `records` processed in `seconds` (on the stream thread), for
        active-process-ratio (process-latency is timed per record on the DEBUG path: lateness_batches)."""
        pass_s = self._pass_s
        key = id(task)
        pass_s[key] = pass_s.get(key, 0.0) + seconds

    def record_punctuate(self, task: Any, punctuations: int, seconds: float) -> None:
        """A task's due punctuators of one pass (`punctuations`: how many times it punctuated; DEBUG:
        punctuate-latency, ns per punctuation)."""
        if self.debug and punctuations > 0:
            self._record(self._punctuate, task, seconds * 1e9 / punctuations)

    def lateness_batches(self, at: Any, batch: Any, stop_when_dry: bool = False) -> Callable[[int], int]:
        """DEBUG: a process_batch(max_records) for a running task (`at`: its ActiveTask) that processes one record
        per batch(1) call, recording each one's process-latency (the call's ns) and lateness (the task's stream
        time before it minus its timestamp, 0 for a newer record). stop_when_dry: end the batch after a record that emptied its partition's queue, as
        process_batch does for a task that may idle (max.task.idle.ms), so readiness is checked again."""
        def measured(max_records: int) -> int:
            return self._process_measuring_lateness(at, batch, max_records, stop_when_dry)
        return measured

    def _process_measuring_lateness(self, at: Any, batch: Any, max_records: int, stop_when_dry: bool) -> int:
        late: list[float] = []
        took: list[float] = []
        task = at.task
        context = task.store_context
        queues = getattr(task, "_queues", None) or {}
        by_source: dict[str, int] = {}
        clock = time.perf_counter_ns
        while len(late) < max_records:
            before = task.stream_time
            start = clock()
            if not batch(1):
                break
            took.append(clock() - start)
            rc = context.record_context  # the record just processed (set by its queue)
            timestamp = rc.timestamp
            late.append(before - timestamp if timestamp <= before else 0.0)
            queue = queues.get((rc.topic, rc.partition))
            if queue is not None:
                source = queue.source.name
                by_source[source] = by_source.get(source, 0) + 1
            if stop_when_dry and not task.buffered(rc.topic, rc.partition):
                break
        if late:
            now = self._clock() * 1000.0
            with self._lock:
                stat = self._stat(self._lateness, at)
                for value in late:
                    stat.record(value, now)
                stat = self._stat(self._process, at)
                for value in took:
                    stat.record(value, now)
                entry = self._sources.get(id(at))
                if entry is None:
                    entry = self._sources[id(at)] = (at, {})
                for source, n in by_source.items():
                    counted = entry[1].get(source)
                    if counted is None:
                        counted = entry[1][source] = [0, WindowedRate("sum", self.window_ms, self.samples)]
                    counted[0] += n
                    counted[1].record(n, now)
        return len(late)

    def node_values(self) -> dict[tuple[str, str], dict[str, float]]:
        """(task-id, source node) -> process-total / process-rate (DEBUG; empty at INFO)."""
        now = self._clock() * 1000.0
        with self._lock:
            return {(_task_id(at), source): {"process-total": counted[0], "process-rate": counted[1].measure(now)}
                    for at, sources in self._sources.values() for source, counted in sources.items()}

    def _stat(self, stats: dict[int, tuple[Any, _AvgMax]], task: Any) -> _AvgMax:
        entry = stats.get(id(task))
        if entry is None:
            entry = stats[id(task)] = (task, _AvgMax(self.window_ms, self.samples))
        return entry[1]

    def _record(self, stats: dict[int, tuple[Any, _AvgMax]], task: Any, value: float) -> None:
        now = self._clock() * 1000.0
        with self._lock:
            self._stat(stats, task).record(value, now)

    def end_iteration(self, running: Iterable[Any]) -> None:
        """The poll loop's iteration ended: each running task's share of the iteration's processing time
        (active-process-ratio, 0 for a task that had nothing to process), when anything was processed."""
        spent, self._pass_s = self._pass_s, {}
        total = sum(spent.values())
        if total <= 0:
            return
        ratios = {id(task): (task, spent.get(id(task), 0.0) / total) for task in running}
        with self._lock:
            self._ratio.update(ratios)

    def retain(self, live: Iterable[Any]) -> None:
        """Forget the tasks no longer here (Kafka removes a closed task's sensors)."""
        keep = set(map(id, live))
        with self._lock:
            for stats in (self._ratio, self._process, self._punctuate, self._lateness, self._sources):
                for gone in [key for key in stats if key not in keep]:
                    del stats[gone]

    def values(self) -> dict[str, dict[str, float]]:
        """Kafka's task-id -> {metric name: value} of these sensors at the configured level (latencies NaN with
        nothing recorded in the window; DEBUG-level ones only at DEBUG/TRACE)."""
        now = self._clock() * 1000.0
        out: dict[str, dict[str, float]] = {}
        with self._lock:
            for task, ratio in self._ratio.values():
                out.setdefault(_task_id(task), {})["active-process-ratio"] = ratio
            if self.debug:
                for name, stats in (("process-latency", self._process), ("punctuate-latency", self._punctuate),
                                    ("record-lateness", self._lateness)):
                    for task, stat in stats.values():
                        values = out.setdefault(_task_id(task), {})
                        values[f"{name}-avg"] = stat.avg.measure(now)
                        values[f"{name}-max"] = stat.max.measure(now)
        return out


def _task_id(task: Any) -> str:
    return str(getattr(task, "id", task))


class _NoTaskSensors(TaskSensors):
    """What a processing loop given metrics without task sensors (stand-ins) records into: nothing."""

    def record_process(self, task: Any, records: int, seconds: float) -> None:
        return None


NO_TASK_SENSORS: TaskSensors = _NoTaskSensors()


#: stream-task-metrics as Kafka registers them per active task: (name, recording level); from TaskSensors, the
#: sampled task counters (thread_metrics.TASK_COUNTERS) or read when asked (active-buffer-count)
TASK_METRICS = (("dropped-records-total", "INFO"), ("dropped-records-rate", "INFO"),
                ("active-process-ratio", "INFO"), ("restore-remaining-records-total", "INFO"),
                ("process-total", "DEBUG"), ("process-rate", "DEBUG"),
                ("process-latency-avg", "DEBUG"), ("process-latency-max", "DEBUG"),
                ("punctuate-total", "DEBUG"), ("punctuate-rate", "DEBUG"),
                ("punctuate-latency-avg", "DEBUG"), ("punctuate-latency-max", "DEBUG"),
                ("enforced-processing-total", "DEBUG"), ("enforced-processing-rate", "DEBUG"),
                ("restore-total", "DEBUG"), ("restore-rate", "DEBUG"),
                ("record-lateness-avg", "DEBUG"), ("record-lateness-max", "DEBUG"),
                ("active-buffer-count", "DEBUG"), ("cache-size-bytes-total", "DEBUG"))

#: before the first sample (a task created, nothing recorded yet): Kafka's Value/Avg/Max of nothing
_UNRECORDED = {"active-process-ratio": 0.0, "process-latency-avg": math.nan, "process-latency-max": math.nan,
               "punctuate-latency-avg": math.nan, "punctuate-latency-max": math.nan,
               "record-lateness-avg": math.nan, "record-lateness-max": math.nan}


def buffered_records(thread: Any) -> dict[str, int]:
    """active-buffer-count per running task id: records polled and not processed yet (its input queues)."""
    out: dict[str, int] = {}
    for task_id, at in list(getattr(thread, "tasks", {}).items()):
        queues = getattr(getattr(at, "task", None), "_queues", None) or {}
        out[str(task_id)] = sum(len(q) for q in list(queues.values()) if hasattr(q, "__len__"))
    return out


def cache_bytes(thread: Any) -> dict[str, int]:
    """cache-size-bytes-total per running task id: the bytes its stores' record caches hold now (Kafka's
    NamedCache records each cache's size into the task's sensor; here the task's caches summed when read)."""
    out: dict[str, int] = {}
    for task_id, at in list(getattr(thread, "tasks", {}).items()):
        total = 0
        for store in list((getattr(getattr(at, "task", None), "stores", None) or {}).values()):
            layer = store
            while layer is not None:
                named = getattr(layer, "_named", None)
                if named is not None:
                    total += int(getattr(named, "size", 0) or 0)
                    break
                layer = getattr(layer, "wrapped", None)
        out[str(task_id)] = total
    return out


def task_values(thread: Any, counted: dict[str, dict[str, float]], debug: bool = True
                ) -> dict[str, dict[str, float]]:
    """Every stream-task-metrics value of a thread's tasks by task-id (all levels; the exporter keeps those of the
    configured one): the sampled counters `counted` (thread_metrics.thread_values), TaskSensors' timings,
    restore-remaining-records-total and (`debug`: metrics.recording.level DEBUG/TRACE) active-buffer-count and
    cache-size-bytes-total."""
    from pystreams.runtime.thread_metrics import restore_remaining

    sensors: TaskSensors | None = getattr(thread.metrics, "task_sensors", None)
    timed = sensors.values() if sensors is not None else {}
    remaining = restore_remaining(thread)
    buffered = buffered_records(thread) if debug else {}
    cached = cache_bytes(thread) if debug else {}
    out: dict[str, dict[str, float]] = {}
    for task_id, values in counted.items():
        merged = dict(values)
        merged["restore-remaining-records-total"] = remaining.get(task_id, 0)
        merged.update(_UNRECORDED)  # Kafka makes these sensors with the StreamTask, restoring ones too
        merged.update(timed.get(task_id, {}))
        if debug:
            merged["active-buffer-count"] = buffered.get(task_id, 0)
            merged["cache-size-bytes-total"] = cached.get(task_id, 0)
        out[task_id] = merged
    return out


#: stream-task-metrics of a standby task (Kafka's StandbyTask registers only its update sensor, KIP-869): (name,
#: recording level), from the sampled standby counters (thread_metrics.STANDBY_COUNTERS)
STANDBY_TASK_METRICS = (("update-total", "DEBUG"), ("update-rate", "DEBUG"))


def _live_tasks(thread: Any) -> list[tuple[str, Any]]:
    """(task-id, ActiveTask or standby.StandbyTask: both hold the StreamTask as .task) of a thread's running,
    restoring and standby tasks (Kafka's stores of a standby task register their metrics too)."""
    restoring = getattr(getattr(thread, "_restorer", None), "restoring", None) or {}
    standby = getattr(getattr(thread, "_standby", None), "tasks", None) or {}
    return [*[(str(t), at) for t, at in list(getattr(thread, "tasks", {}).items())],
            *[(str(t), rt.at) for t, rt in list(restoring.items())],
            *[(str(t), st) for t, st in list(standby.items())]]


def store_metric_values(thread: Any) -> list[tuple[str, dict[str, str], dict[str, float]]]:
    """(group, tags, values) of the stores of a thread's tasks, standby ones too (state/internals/store_metrics.py):
    stream-state-metrics per store (RocksDB's property metrics, INFO; the operation sensors and RocksDB's
    statistics-based metrics at DEBUG/TRACE),
    stream-record-cache-metrics per cached store (DEBUG), tagged as Kafka's StreamsMetricsImpl storeLevelTagMap /
    cacheLevelTagMap."""
    from pystreams.state.internals.rocksdb_statistics import rocksdb_statistics_values
    from pystreams.state.internals.store_metrics import (
        CACHE_GROUP,
        STATE_GROUP,
        rocksdb_property_values,
        state_id_tag,
    )

    out: list[tuple[str, dict[str, str], dict[str, float]]] = []
    for task_id, at in sorted(_live_tasks(thread), key=lambda pair: pair[0]):
        stores = getattr(getattr(at, "task", None), "stores", None) or {}
        for name, store in sorted(stores.items()):
            sensors = getattr(store, "sensors", None)
            values = rocksdb_property_values(store)  # INFO: RocksDB's own properties, read now
            if sensors is not None:
                values.update(sensors.values())
                values.update(rocksdb_statistics_values(store, sensors))  # DEBUG: RocksDB's statistics (KIP-471)
            if not values:
                continue
            scope = str(getattr(store, "metrics_scope", "") or "unknown")
            tags = {"thread-id": thread.name, "task-id": task_id, state_id_tag(scope): name}
            out.append((STATE_GROUP, tags, values))
            if sensors is not None and sensors.cached:
                cache_tags = {"thread-id": thread.name, "task-id": task_id, "record-cache-id": name}
                out.append((CACHE_GROUP, cache_tags, sensors.cache_values()))
    return out
