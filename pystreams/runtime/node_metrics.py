"""Kafka's record-e2e-latency-avg/-min/-max (stream-processor-node-metrics, INFO) of source nodes, sampled once per
poll-loop iteration instead of per record, so measuring costs nothing per record.

A sample is the wall clock at the iteration's end minus the partition time of each input partition whose
partition time moved in that iteration (the largest timestamp its queue handed to processing): the latency of the
newest record of the batch when the batch is done. Kafka records every record when its source node processes it,
so its -max also sees a batch's oldest records and its -min the records' latency before their batch is processed.
"""
from __future__ import annotations

import threading
from typing import Any

from pystreams.runtime.sampled_stats import WindowedAvg, WindowedMax, WindowedMin

GROUP = "stream-processor-node-metrics"


class E2ELatency:
    """Per (task id, source node): Kafka's windowed avg / min / max of the sampled end-to-end latency (ms)."""

    def __init__(self, window_ms: float, samples: int) -> None:
        self.window_ms, self.samples = window_ms, samples
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], tuple[WindowedAvg, WindowedMin, WindowedMax]] = {}
        self._seen: dict[tuple[int, str, int], int] = {}  # (id(task), topic, partition) -> partition time sampled

    def sample(self, tasks: list[Any], wall_ms: float, now_ms: float) -> None:
        """On the stream thread at an iteration's end: one sample per input partition whose time moved."""
        seen = self._seen
        for at in tasks:
            queues = getattr(getattr(at, "task", None), "_queues", None)
            if not queues:
                continue
            for (topic, partition), queue in list(queues.items()):
                ptime = queue.partition_time
                key = (id(at), topic, partition)
                if ptime < 0 or seen.get(key) == ptime:
                    continue
                seen[key] = ptime
                node = (str(at.id), queue.source.name)
                latency = wall_ms - ptime
                with self._lock:
                    stats = self._stats.get(node)
                    if stats is None:
                        stats = self._stats[node] = (WindowedAvg(self.window_ms, self.samples),
                                                     WindowedMin(self.window_ms, self.samples),
                                                     WindowedMax(self.window_ms, self.samples))
                    for stat in stats:
                        stat.record(latency, now_ms)

    def retain(self, tasks: list[Any]) -> None:
        """Drop the nodes of tasks that closed (Kafka removes a closed task's node metrics)."""
        live_ids = {id(at) for at in tasks}
        live = {str(getattr(at, "id", "")) for at in tasks}
        self._seen = {k: v for k, v in self._seen.items() if k[0] in live_ids}
        with self._lock:
            for node in [n for n in self._stats if n[0] not in live]:
                del self._stats[node]

    def values(self, now_ms: float) -> dict[tuple[str, str], dict[str, float]]:
        """(task id, source node) -> record-e2e-latency-avg/-min/-max now (NaN: no sample in the window)."""
        with self._lock:
            return {node: {"record-e2e-latency-avg": avg.measure(now_ms),
                           "record-e2e-latency-min": low.measure(now_ms),
                           "record-e2e-latency-max": high.measure(now_ms)}
                    for node, (avg, low, high) in self._stats.items()}
