"""Kafka's record-e2e-latency-avg/-min/-max (stream-processor-node-metrics, INFO) of source nodes and of sink nodes
(Kafka's terminal nodes), sampled once per poll-loop iteration instead of per record, so measuring costs nothing per
record beyond a sink keeping the timestamp of the record it was handed.

A sample is the wall clock at the iteration's end minus the partition time of each input partition that
processed records in that iteration (its partition time or next offset moved; the partition time is the largest
timestamp its queue handed to processing): the latency of the newest record of the batch when the batch is done.
Kafka records every record when its source node processes it, so its -max also sees a batch's oldest records and
its -min the records' latency before their batch is processed.

Sink nodes: a sink that exposes `last_timestamp` (the timestamp of the last record it was handed; -1 or absent:
none; processor/internals/nodes.SinkRuntime keeps it) gets a sample per iteration in which it was handed a record:
the wall clock at the iteration's end minus that timestamp, which the sample takes (sets back to -1; sampling runs
on the stream thread, the sink's only writer). Kafka records a terminal node when a record is forwarded to it, with the task's
wall clock of the current record (cached per processing pass), so the two agree up to the iteration's length.
Terminal nodes that are not sinks (a foreach, a processor without children) are not sampled.
"""
from __future__ import annotations

import math
import threading
from typing import Any

GROUP = "stream-processor-node-metrics"


class _AvgMinMax:
    """Kafka's Avg, Min and Max of one sensor in one sample ring (metrics.sample.window.ms x metrics.num.samples):
    each sample keeps [start ms, sum, count, min, max]; samples num_samples windows old no longer count."""

    __slots__ = ("_current", "num_samples", "samples", "window_ms")

    def __init__(self, window_ms: float, samples: int) -> None:
        self.window_ms, self.num_samples = window_ms, samples
        self.samples: list[list[float]] = []
        self._current = 0

    def record(self, value: float, now_ms: float) -> None:
        samples = self.samples
        if not samples:
            samples.append([now_ms, 0.0, 0, math.inf, -math.inf])
        sample = samples[self._current]
        if now_ms - sample[0] >= self.window_ms:
            self._current = (self._current + 1) % self.num_samples
            if self._current >= len(samples):
                samples.append([now_ms, 0.0, 0, math.inf, -math.inf])
            sample = samples[self._current]
            sample[:] = [now_ms, 0.0, 0, math.inf, -math.inf]
        sample[1] += value
        sample[2] += 1
        sample[3] = min(sample[3], value)
        sample[4] = max(sample[4], value)

    def measure(self, now_ms: float) -> tuple[float, float, float]:
        """(avg, min, max) over the live samples; NaN each when none was recorded."""
        live = [s for s in self.samples if now_ms - s[0] < self.num_samples * self.window_ms and s[2]]
        if not live:
            return math.nan, math.nan, math.nan
        return (sum(s[1] for s in live) / sum(s[2] for s in live), min(s[3] for s in live),
                max(s[4] for s in live))


def _keeps_timestamp(sink: Any) -> bool:
    """Whether a sink keeps the timestamp of the last record it wrote (an attribute or a __slots__ entry)."""
    return hasattr(sink, "last_timestamp") or any("last_timestamp" in getattr(cls, "__slots__", ())
                                                  for cls in type(sink).__mro__)


class E2ELatency:
    """Per (task id, source or sink node): Kafka's windowed avg / min / max of the sampled end-to-end latency (ms)."""

    def __init__(self, window_ms: float, samples: int) -> None:
        self.window_ms, self.samples = window_ms, samples
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], _AvgMinMax] = {}
        # id(record queue) -> (partition time, next offset) when last sampled: a sample per processed batch
        self._seen: dict[int, tuple[int, Any]] = {}
        self._sinks: list[tuple[str, Any]] = []  # (task id, sink) of the live tasks' sinks that keep last_timestamp

    def sample(self, tasks: list[Any], wall_ms: float, now_ms: float) -> None:
        """On the stream thread at an iteration's end: one sample per input partition that processed records (its
        partition time or next offset moved) and per sink that was handed a record since the last sample (its
        last_timestamp, which the sample takes: set back to -1, so records of one timestamp are sampled again)."""
        seen = self._seen
        moved: list[tuple[tuple[str, str], float]] = []
        for at in tasks:
            task = getattr(at, "task", None)
            queues = getattr(task, "_queues", None) or {}
            for queue in queues.values():
                ptime = queue.partition_time
                position = (ptime, getattr(queue, "next_offset", None))
                if ptime < 0 or seen.get(id(queue)) == position:
                    continue
                seen[id(queue)] = position
                moved.append(((str(at.id), queue.source.name), wall_ms - ptime))
        for task_id, sink in self._sinks:
            written = getattr(sink, "last_timestamp", -1)
            if written < 0:
                continue
            sink.last_timestamp = -1  # taken (the stream thread is the sink's only writer)
            moved.append(((task_id, sink.name), wall_ms - written))
        if not moved:
            return
        with self._lock:
            stats = self._stats
            for node, latency in moved:
                stat = stats.get(node)
                if stat is None:
                    stat = stats[node] = _AvgMinMax(self.window_ms, self.samples)
                stat.record(latency, now_ms)

    def retain(self, tasks: list[Any]) -> None:
        """The live tasks changed: drop the nodes of tasks that closed (Kafka removes a closed task's node metrics)
        and note the sinks to sample."""
        queues = {id(q) for at in tasks for q in getattr(getattr(at, "task", None), "_queues", {}).values()}
        self._sinks = [(str(at.id), sink) for at in tasks
                       for sink in (getattr(getattr(at, "task", None), "sinks", None) or {}).values()
                       if _keeps_timestamp(sink)]
        live = {str(getattr(at, "id", "")) for at in tasks}
        self._seen = {k: v for k, v in self._seen.items() if k in queues}
        with self._lock:
            for node in [n for n in self._stats if n[0] not in live]:
                del self._stats[node]

    def values(self, now_ms: float) -> dict[tuple[str, str], dict[str, float]]:
        """(task id, source or sink node) -> record-e2e-latency-avg/-min/-max now (NaN: no sample in the window)."""
        with self._lock:
            measured = {node: stat.measure(now_ms) for node, stat in self._stats.items()}
        return {node: {"record-e2e-latency-avg": avg, "record-e2e-latency-min": low, "record-e2e-latency-max": high}
                for node, (avg, low, high) in measured.items()}
