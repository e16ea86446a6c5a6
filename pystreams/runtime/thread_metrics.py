"""A stream thread's counters (Kafka's stream-thread metrics) and its records-lag, refreshed by the thread itself.

Readers (the /metrics HTTP thread, KafkaStreams.metrics()) only read these fields: a librdkafka consumer is not
called from any thread but its own stream thread, so a scrape never waits on (or races with) the poll loop.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

from pystreams.errors import ConfigError
from pystreams.runtime.node_metrics import E2ELatency
from pystreams.runtime.sampled_stats import (
    DEFAULT_SAMPLES,
    DEFAULT_WINDOW_MS,
    WindowedAvg,
    WindowedMax,
    WindowedRate,
)
from pystreams.runtime.task_metrics import TaskSensors

log = logging.getLogger("pystreams.runtime")

#: how often the stream thread recomputes records-lag (positions and cached watermarks: local calls, no request)
LAG_REFRESH_S = 1.0


class ThreadMetrics:
    """Counters the summary line and metrics() read (Kafka's thread-level metric meanings), plus Kafka's windowed
    stats over them (sampled_stats: metrics.sample.window.ms x metrics.num.samples), so process-rate, commit-rate
    and the latencies cover the last window and no reader resets them.

    The stream loop records with record_process(n, ms) / record_commit(ms); `processed`, `process_ms`, `commits`
    and `last_commit_ms` can also be assigned as plain counters (`metrics.processed += n`, then
    `metrics.process_ms += ms`): the assignments feed the same stats. Latency is Kafka's thread-level
    definition: one processing pass's time divided by the records it processed (StreamThread records
    processLatency / processed per pass), so process-latency-max is the largest per-record average of a pass,
    not the slowest single record (timing every record would cost ~2 clock reads, ~0.1-0.2 us, per record).
    """

    def __init__(self, config: Any = None, clock: Callable[[], float] = time.monotonic, owner: Any = None) -> None:
        self._clock = clock
        #: the stream thread recording here: its restoring and standby tasks count as created (Kafka's
        #: task-created counts every task made, active or standby, when it is made) - None: running tasks only
        self.owner = owner
        self._lock = threading.Lock()
        self.configure(config)
        # (task id, counter) -> (count when last sampled, its windowed rate)
        self._task_counters: dict[tuple[str, str], tuple[int, Any]] = {}
        self._standby_counters: dict[tuple[str, str], tuple[int, Any]] = {}  # the same for the standby tasks
        self._processed = 0
        self._iteration_records = 0  # records processed in the current loop iteration (process-records)
        self._process_ms = 0.0
        self._last_batch = 0  # records of the last `processed +=` not yet matched by `process_ms +=`
        self._commits = 0
        self._pending_commit = False  # a `commits += 1` not yet matched by `last_commit_ms = ...`
        self._last_commit_ms = 0.0
        self.restored = 0
        self.restore_total = 0
        self._polls = 0
        # the poll loop's phases (Kafka's runOnce): an iteration runs from one end_iteration() (refresh_lag, the
        # loop's last call) to the next; the poll phase ends at `polls += 1`
        self._iteration_start: float | None = None  # clock() seconds of the last iteration end (None: none yet)
        self._iteration_ms = {"poll": 0.0, "process": 0.0, "punctuate": 0.0, "commit": 0.0}
        self._last_iteration: tuple[dict[str, float], float] | None = None  # (ms per phase, total ms)
        self.blocked_ns = 0  # blocked-time-ns-total: time in the poll phase (waiting for input included)
        self.punctuate_wired = False  # record_punctuate() was called: the punctuate-* metrics are measured
        self.punctuations = 0
        self._tasks_seen: set[int] = set()  # id() of the thread's tasks (running, restoring, standby) at the last
        # iteration end: task-created/-closed are the differences
        self._running_seen: set[int] = set()  # id() of the running ones at the last iteration end
        self._task_refs: list[Any] = []  # the running ones (record-e2e-latency samples their input queues)
        self._made_refs: list[Any] = []  # all of them (keeps their id()s from being reused while compared)
        self.tasks_created = 0
        self.tasks_closed = 0
        self.start_time_ms = time.time() * 1000.0  # thread-start-time: wall clock ms (Kafka's epoch ms)
        self.lag = 0  # records-lag of the assigned input partitions, as of lag_at
        self.lag_at = 0.0  # time.monotonic() of the last lag refresh (0: never)
        self.partition_lag: dict[tuple[str, int], int] = {}  # records-lag per input partition, as of lag_at
        self.started = time.monotonic()
        self.process_latency_max_ms = 0.0  # since start (the summary's); the windowed max is process-latency-max
        self.restore_rate = 0.0

    def configure(self, config: Any) -> None:
        """Take metrics.sample.window.ms / metrics.num.samples from the app config (Kafka's defaults 30000 ms x 2
        when unset); called before the thread records anything (it starts the windows afresh)."""
        get = getattr(config, "get", None)
        raw_window = (get("metrics.sample.window.ms") if get else None) or DEFAULT_WINDOW_MS
        raw_samples = (get("metrics.num.samples") if get else None) or DEFAULT_SAMPLES
        try:
            window_ms, samples = float(raw_window), int(raw_samples)
        except (TypeError, ValueError):
            window_ms, samples = -1.0, -1
        if window_ms <= 0 or samples < 1:
            raise ConfigError(f"metrics.sample.window.ms must be a positive number of ms and metrics.num.samples "
                              f"at least 1, got {raw_window!r} and {raw_samples!r}")
        from pystreams.runtime.client_metrics import recording_level

        self.recording_level = recording_level(config)  # metrics.recording.level: a bad value fails start()
        with self._lock:
            self.window_ms, self.num_samples = window_ms, samples
            self._process_rate = WindowedRate("sum", window_ms, samples)
            self._process_avg = WindowedAvg(window_ms, samples)
            self._process_max = WindowedMax(window_ms, samples)
            self._commit_rate = WindowedRate("count", window_ms, samples)
            self._commit_avg = WindowedAvg(window_ms, samples)
            self._commit_max = WindowedMax(window_ms, samples)
            self._dropped_rate = WindowedRate("sum", window_ms, samples)
            self._poll_rate = WindowedRate("count", window_ms, samples)
            self._poll_avg = WindowedAvg(window_ms, samples)
            self._poll_max = WindowedMax(window_ms, samples)
            self._punctuate_rate = WindowedRate("sum", window_ms, samples)
            self._punctuate_avg = WindowedAvg(window_ms, samples)
            self._punctuate_max = WindowedMax(window_ms, samples)
            self._created_rate = WindowedRate("sum", window_ms, samples)
            self._closed_rate = WindowedRate("sum", window_ms, samples)
            self.e2e = E2ELatency(window_ms, samples)
            self._lag_max = WindowedMax(window_ms, samples)
            self._process_records_avg = WindowedAvg(window_ms, samples)
            self._process_records_max = WindowedMax(window_ms, samples)
            self._poll_records_avg = WindowedAvg(window_ms, samples)
            self._poll_records_max = WindowedMax(window_ms, samples)
            #: the timed stream-task-metrics (task_metrics.py); process_tasks records into it per task per pass
            self.task_sensors = TaskSensors(self.recording_level, window_ms, samples, self._clock)

    # ---- recording (stream thread)
    def record_process(self, records: int, ms: float) -> None:
        """One processing pass: `records` records in `ms` milliseconds."""
        self._processed += records
        self._process_ms += ms
        self._note_process(records, ms)

    def record_commit(self, ms: float) -> None:
        """One commit that took `ms` milliseconds."""
        self._commits += 1
        self._last_commit_ms = ms
        self._note_commit(ms)

    def _note_process(self, records: int, ms: float) -> None:
        if records <= 0:
            return
        self._iteration_records += records
        self._iteration_ms["process"] += ms
        now = self._clock() * 1000.0
        per_record = ms / records
        with self._lock:
            self._process_rate.record(records, now)
            self._process_avg.record(per_record, now)
            self._process_max.record(per_record, now)
        self.process_latency_max_ms = max(self.process_latency_max_ms, per_record)

    def _note_commit(self, ms: float) -> None:
        self._iteration_ms["commit"] += ms
        now = self._clock() * 1000.0
        with self._lock:
            self._commit_rate.record(1, now)
            self._commit_avg.record(ms, now)
            self._commit_max.record(ms, now)

    def record_punctuate(self, punctuations: int, ms: float) -> None:
        """The punctuators one processing pass ran (`punctuations`, possibly 0) and the ms they took: Kafka's
        punctuate-rate/-total (punctuator calls) and punctuate-latency-avg/-max (ms per call)."""
        self.punctuate_wired = True
        if punctuations <= 0:
            return
        self._iteration_ms["punctuate"] += ms
        self.punctuations += punctuations
        now = self._clock() * 1000.0
        with self._lock:
            self._punctuate_rate.record(punctuations, now)
            self._punctuate_avg.record(ms / punctuations, now)
            self._punctuate_max.record(ms / punctuations, now)

    def note_poll(self, records: int) -> None:
        """The stream loop's consumer poll returned `records` records: poll-total and the poll phase (as
        `polls += 1`) and Kafka's poll-records-avg/-max (recorded for a poll that returned records only)."""
        self._polls += 1
        self._note_polls(1, records)

    @property
    def polls(self) -> int:
        """poll-total; the stream loop's `polls += 1` right after its consumer poll ends the poll phase."""
        return self._polls

    @polls.setter
    def polls(self, value: int) -> None:
        added, self._polls = value - self._polls, value
        if added > 0:
            self._note_polls(added, 0)

    def _note_polls(self, added: int, records: int) -> None:
        clock = self._clock()
        now = clock * 1000.0
        start = self._iteration_start
        with self._lock:  # one lock round per poll
            if records > 0:
                self._poll_records_avg.record(records, now)
                self._poll_records_max.record(records, now)
            self._poll_rate.record(added, now)
            if start is not None:  # the poll phase: from the last iteration's end (rebalance handling included)
                ms = (clock - start) * 1000.0
                self._iteration_ms["poll"] += ms
                self.blocked_ns += int(ms * 1e6)
                self._poll_avg.record(ms, now)
                self._poll_max.record(ms, now)

    def end_iteration(self, tasks: Iterable[Any] = ()) -> None:
        """The poll loop's last step (refresh_lag calls it): Kafka's process/punctuate/poll/commit-ratio of this
        iteration (each phase's time over the iteration's), process-records (the iteration's records, 0 too),
        the tasks' active-process-ratio (task_metrics.TaskSensors), task-created/-closed from the thread's tasks
        now (`tasks`: the running ones; with an owner also its restoring and standby tasks, so a task counts in
        the iteration that made it, as Kafka's ActiveTaskCreator/StandbyTaskCreator record it) against those at
        the last iteration's end, and a record-e2e-latency sample per input partition that moved
        (node_metrics.E2ELatency)."""
        clock = self._clock()
        start, self._iteration_start = self._iteration_start, clock
        if start is not None and clock > start:  # the ratios are computed when read
            self._last_iteration = (self._iteration_ms, (clock - start) * 1000.0)
        self._iteration_ms = {"poll": 0.0, "process": 0.0, "punctuate": 0.0, "commit": 0.0}
        refs = list(tasks)
        now = clock * 1000.0
        records, self._iteration_records = self._iteration_records, 0
        sensors = self.task_sensors
        sensors.end_iteration(refs)
        with self._lock:  # Kafka's process-records: every iteration's count, 0 included
            self._process_records_avg.record(records, now)
            self._process_records_max.record(records, now)
        running = {id(t) for t in refs}
        if running != self._running_seen:  # a restored task starts running: same task, now with input
            self._running_seen, self._task_refs = running, self._distinct(refs)
            self.e2e.retain(self._task_refs)
        made = refs + self._other_tasks()
        ids = {id(t) for t in made}
        if ids != self._tasks_seen:
            created, closed = len(ids - self._tasks_seen), len(self._tasks_seen - ids)
            self._tasks_seen, self._made_refs = ids, made
            sensors.retain(made)
            with self._lock:
                if created:
                    self.tasks_created += created
                    self._created_rate.record(created, now)
                if closed:
                    self.tasks_closed += closed
                    self._closed_rate.record(closed, now)
        self.e2e.sample(self._task_refs, time.time() * 1000.0, now)  # record-e2e-latency: per iteration

    def _other_tasks(self) -> list[Any]:
        """The owner thread's tasks that are not running: restoring active tasks and standby tasks."""
        owner = self.owner
        if owner is None:
            return []
        restoring = getattr(getattr(owner, "_restorer", None), "restoring", None) or {}
        standby = getattr(getattr(owner, "_standby", None), "tasks", None) or {}
        return [*[rt.at for rt in list(restoring.values())], *list(standby.values())]

    @property
    def ratios(self) -> dict[str, float]:
        """Kafka's process/punctuate/poll/commit-ratio: each phase's share of the last loop iteration (NaN
        before one ended)."""
        last = self._last_iteration
        if last is None:
            return {f"{phase}-ratio": math.nan for phase in ("poll", "process", "punctuate", "commit")}
        spent, total = last
        return {f"{phase}-ratio": min(1.0, ms / total) for phase, ms in spent.items()}

    @staticmethod
    def _distinct(refs: list[Any]) -> list[Any]:
        seen: set[int] = set()
        return [t for t in refs if not (id(t) in seen or seen.add(id(t)))]  # type: ignore[func-returns-value]

    # the stream loop's plain-counter style feeds the same stats
    @property
    def processed(self) -> int:
        return self._processed

    @processed.setter
    def processed(self, value: int) -> None:
        self._last_batch = value - self._processed
        self._processed = value

    @property
    def process_ms(self) -> float:
        """Wall time inside task processing, for process-latency-avg since start."""
        return self._process_ms

    @process_ms.setter
    def process_ms(self, value: float) -> None:
        spent, self._process_ms = value - self._process_ms, value
        batch, self._last_batch = self._last_batch, 0
        self._note_process(batch, spent)

    @property
    def commits(self) -> int:
        return self._commits

    @commits.setter
    def commits(self, value: int) -> None:
        self._pending_commit = value > self._commits
        self._commits = value

    @property
    def last_commit_ms(self) -> float:
        return self._last_commit_ms

    @last_commit_ms.setter
    def last_commit_ms(self, value: float) -> None:
        self._last_commit_ms = value
        if self._pending_commit:
            self._pending_commit = False
            self._note_commit(value)

    # ---- reading (any thread)
    def note_dropped(self, by_task: dict[str, int]) -> dict[str, tuple[int, float]]:
        """note_tasks() for dropped records alone: (dropped-records-total, dropped-records-rate) per task id."""
        out = self.note_tasks({t: {"dropped-records": n} for t, n in by_task.items()})
        return {t: (int(v["dropped-records-total"]), v["dropped-records-rate"]) for t, v in out.items()}

    def note_tasks(self, by_task: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
        """Sample the live tasks' counters (TASK_COUNTERS: the tasks count, increases since the last sample go into
        windowed rates, timed when sampled: at every metrics read). Returns Kafka's task-level `<name>-total` and
        `<name>-rate` per task id; a task that moved away takes its counts with it, as Kafka removes a closed
        task's metrics. Dropped records also feed the thread-level dropped-records-rate."""
        return self._sample(self._task_counters, by_task)

    def note_standby(self, by_task: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
        """note_tasks() for the standby tasks' counters (STANDBY_COUNTERS), sampled apart from the active tasks'."""
        return self._sample(self._standby_counters, by_task)

    def _sample(self, seen: dict[tuple[str, str], tuple[int, Any]], by_task: dict[str, dict[str, int]]
                ) -> dict[str, dict[str, float]]:
        now = self._clock() * 1000.0
        out: dict[str, dict[str, float]] = {}
        with self._lock:
            dropped = 0
            for task_id, counters in by_task.items():
                values: dict[str, float] = {}
                for name, total in counters.items():
                    last, rate = seen.get((task_id, name), (0, None))
                    if rate is None:
                        rate = WindowedRate("sum", self.window_ms, self.num_samples)
                    if total > last:
                        rate.record(total - last, now)
                        if name == "dropped-records":
                            dropped += total - last
                    seen[(task_id, name)] = (total, rate)
                    values[f"{name}-total"] = total
                    values[f"{name}-rate"] = rate.measure(now)
                out[task_id] = values
            for gone in [key for key in seen if key[0] not in by_task]:
                del seen[gone]
            if dropped:
                self._dropped_rate.record(dropped, now)
        return out

    def windowed(self) -> dict[str, float]:
        """Kafka's windowed stream-thread metrics now: process-, commit-, poll- and punctuate-rate and their
        latency-avg/-max, dropped-records-rate, task-created/-closed-rate (NaN: nothing recorded in the window)."""
        now = self._clock() * 1000.0
        with self._lock:
            return {"process-rate": self._process_rate.measure(now),
                    "process-latency-avg": self._process_avg.measure(now),
                    "process-latency-max": self._process_max.measure(now),
                    "commit-rate": self._commit_rate.measure(now),
                    "commit-latency-avg": self._commit_avg.measure(now),
                    "commit-latency-max": self._commit_max.measure(now),
                    "dropped-records-rate": self._dropped_rate.measure(now),
                    "poll-rate": self._poll_rate.measure(now),
                    "poll-latency-avg": self._poll_avg.measure(now),
                    "poll-latency-max": self._poll_max.measure(now),
                    "punctuate-rate": self._punctuate_rate.measure(now),
                    "punctuate-latency-avg": self._punctuate_avg.measure(now),
                    "punctuate-latency-max": self._punctuate_max.measure(now),
                    "task-created-rate": self._created_rate.measure(now),
                    "task-closed-rate": self._closed_rate.measure(now),
                    "process-records-avg": self._process_records_avg.measure(now),
                    "process-records-max": self._process_records_max.measure(now),
                    "poll-records-avg": self._poll_records_avg.measure(now),
                    "poll-records-max": self._poll_records_max.measure(now)}

    def refresh_lag(self, consumer: Any, partitions: Iterable[tuple[str, int]], now: float,
                    every: float = LAG_REFRESH_S) -> None:
        """On the stream thread only: records behind the end of the assigned input partitions (positions and the
        watermarks librdkafka cached from its fetches), at most once per `every` seconds. The poll loop's last
        call, so it also ends the loop iteration (end_iteration: ratios, tasks created/closed from the
        partition -> task map the thread passes)."""
        values = getattr(partitions, "values", None)
        self.end_iteration(values() if values is not None else ())
        if now - self.lag_at < every:
            return
        self.lag_at = now
        tps = [TopicPartition(t, p) for t, p in partitions]
        if consumer is None or not tps:
            self.lag, self.partition_lag = 0, {}
            return
        per_partition: dict[tuple[str, int], int] = {}
        try:
            for tp in consumer.position(tps):
                _low, high = consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    per_partition[(tp.topic, tp.partition)] = max(0, high - tp.offset)
        except (KafkaException, RuntimeError) as e:  # keep the last value
            log.debug("records-lag refresh failed: %s", e)
            return
        self.lag = sum(per_partition.values())
        self.partition_lag = per_partition  # the consumer's records-lag per partition (replaced, never mutated)
        if per_partition:
            with self._lock:
                self._lag_max.record(max(per_partition.values()), self._clock() * 1000.0)

    def records_lag_max(self) -> float:
        """The consumer's records-lag-max: the largest partition lag seen in the window (NaN: none)."""
        with self._lock:
            return self._lag_max.measure(self._clock() * 1000.0)


#: Kafka's stream-task-metrics pystreams exports: (name, where the task keeps the count). dropped-records: bad input,
#: handler CONTINUE, negative timestamps (processor/internals/task.py); enforced-processing: records processed
#: because max.task.idle.ms passed while a partition had no data (task idling, Kafka's DEBUG-level sensor)
TASK_COUNTERS = ("dropped-records", "enforced-processing", "restore", "process", "punctuate")


def task_counters(thread: Any) -> dict[str, dict[str, int]]:
    """TASK_COUNTERS of each of a thread's live tasks, restoring ones included (each task counts its own;
    restore: changelog records restored into its stores, Kafka's task-level restore-total)."""
    out: dict[str, dict[str, int]] = {}
    restoring = getattr(getattr(thread, "_restorer", None), "restoring", {})
    live = [*list(getattr(thread, "tasks", {}).items()), *[(tid, rt.at) for tid, rt in list(restoring.items())]]
    for task_id, at in live:
        task = getattr(at, "task", None)
        metrics = getattr(task, "metrics", None)
        idling = getattr(task, "idling", None)  # made on first use, only for tasks that may wait
        out[str(task_id)] = {"dropped-records": int(getattr(metrics, "dropped_records", 0) or 0),
                             # process: records through the task's source nodes; punctuate: punctuator calls
                             "process": int(getattr(metrics, "processed", 0) or 0),
                             "punctuate": int(getattr(metrics, "punctuations", 0) or 0),
                             "enforced-processing": int(getattr(idling, "enforced_processing_total", 0) or 0),
                             "restore": int(getattr(at, "restored_records", 0) or 0)}
    return out


#: Kafka's stream-task-metrics of a standby task (StandbyTask's update sensor, KIP-869, DEBUG): update, the
#: changelog records applied to its stores (standby.StandbyTask.updated)
STANDBY_COUNTERS = ("update",)


def standby_counters(thread: Any) -> dict[str, dict[str, int]]:
    """STANDBY_COUNTERS of each of a thread's standby tasks."""
    standby = getattr(getattr(thread, "_standby", None), "tasks", None) or {}
    return {str(task_id): {"update": int(getattr(st, "updated", 0) or 0)} for task_id, st in list(standby.items())}


def dropped_by_task(thread: Any) -> dict[str, int]:
    """dropped-records-total of each of a thread's live tasks."""
    return {task_id: c["dropped-records"] for task_id, c in task_counters(thread).items()}


def thread_values(thread: Any, tasks: dict[str, dict[str, float]] | None = None) -> dict[str, float]:
    """One stream thread's metrics by Kafka's names (stream-thread-metrics, the consumer's records-lag, restore,
    and its live tasks' dropped records and enforced processing summed); `tasks`, when given, receives the
    task-level values (`<counter>-total` / `<counter>-rate` of TASK_COUNTERS) per task id."""
    m = thread.metrics
    per_task = m.note_tasks(task_counters(thread))
    if tasks is not None:
        tasks.update(per_task)
    values: dict[str, float] = {"process-total": m.processed, "commit-total": m.commits,
                                "dropped-records-total": sum(v["dropped-records-total"] for v in per_task.values()),
                                "enforced-processing-total": sum(v["enforced-processing-total"]
                                                                 for v in per_task.values()),
                                "restore-total": m.restored, "restore-rate": m.restore_rate,
                                # refreshed by the stream thread itself: no consumer call from the reader
                                "records-lag": m.lag if thread.is_alive() else 0,
                                "poll-total": m.polls, "punctuate-total": m.punctuations,
                                "task-created-total": m.tasks_created, "task-closed-total": m.tasks_closed,
                                "blocked-time-ns-total": m.blocked_ns, "thread-start-time": m.start_time_ms,
                                "restore-remaining-records-total": sum(restore_remaining(thread).values())}
    values.update(m.windowed())
    values.update(m.ratios)
    return values


def restore_remaining(thread: Any) -> dict[str, int]:
    """restore-remaining-records-total per restoring task id: offsets from each changelog's position to the end
    offset to reach (Kafka's TaskMetrics sensor; read from the thread's changelog reader, never its consumer)."""
    restorer = getattr(thread, "_restorer", None)
    out: dict[str, int] = {}
    for task_id, rt in list(getattr(restorer, "restoring", {}).items()):
        out[str(task_id)] = sum(max(0, cl.end - cl.position) for cl in list(rt.changelogs.values()))
    return out


def client_metrics(streams: Any) -> dict[str, float]:
    """KafkaStreams.metrics(): Kafka's metric names over all stream threads (client_metrics.summary)."""
    from pystreams.runtime.client_metrics import summary

    return summary(streams)
