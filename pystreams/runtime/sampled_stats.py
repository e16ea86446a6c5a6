"""Kafka's windowed metric stats (org.apache.kafka.common.metrics.stats): values recorded into
`metrics.num.samples` samples of `metrics.sample.window.ms` each, so a reading covers the last ~window of time
and reading never resets anything (several scrapers see the same numbers).

Semantics follow Kafka's SampledStat / Rate:
- record(value, now): goes into the current sample; a sample older than one window is complete and the next one
  (reused round-robin) starts at `now`.
- a sample whose start is `num_samples * window` or more in the past is obsolete and reset before reading.
- Rate = (sum, or count, of the live samples) / window size in seconds, where the window size is the time since
  the oldest sample started, padded up to (num_samples - 1) full windows (so a fresh rate is not inflated),
  at least 1 ms.
- Avg and Max of no recorded value are NaN (Kafka's Avg/Max).

Not thread-safe by themselves: ThreadMetrics records from its stream thread and readers take its lock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_WINDOW_MS = 30_000  # Kafka's metrics.sample.window.ms
DEFAULT_SAMPLES = 2  # Kafka's metrics.num.samples


@dataclass
class _Sample:
    start_ms: float
    value: float = 0.0
    count: int = 0


class SampledStat:
    """The sample ring of Kafka's SampledStat; `kind` says how a sample combines values: sum, count or max."""

    def __init__(self, kind: str, window_ms: float = DEFAULT_WINDOW_MS, samples: int = DEFAULT_SAMPLES) -> None:
        if kind not in ("sum", "count", "max"):
            raise ValueError(f"unknown sampled stat kind {kind!r}")
        if window_ms <= 0 or samples < 1:
            raise ValueError(f"metrics.sample.window.ms must be > 0 and metrics.num.samples >= 1, got {window_ms}, "
                             f"{samples}")
        self.kind = kind
        self.window_ms = float(window_ms)
        self.num_samples = int(samples)
        self._samples: list[_Sample] = []
        self._current = 0

    def _initial(self) -> float:
        return -math.inf if self.kind == "max" else 0.0

    def record(self, value: float, now_ms: float) -> None:
        """Add value to the current sample (a new one when the current is a window old)."""
        if not self._samples:
            self._samples.append(_Sample(now_ms, self._initial()))
        sample = self._samples[self._current]
        if now_ms - sample.start_ms >= self.window_ms:
            self._current = (self._current + 1) % self.num_samples
            if self._current >= len(self._samples):
                self._samples.append(_Sample(now_ms, self._initial()))
            sample = self._samples[self._current]
            sample.start_ms, sample.value, sample.count = now_ms, self._initial(), 0
        if self.kind == "sum":
            sample.value += value
        elif self.kind == "count":
            sample.value += 1
        elif value > sample.value:
            sample.value = value
        sample.count += 1

    def purge(self, now_ms: float) -> None:
        """Reset samples that started num_samples windows ago or earlier (Kafka's purgeObsoleteSamples)."""
        expire = self.num_samples * self.window_ms
        for sample in self._samples:
            if now_ms - sample.start_ms >= expire:
                sample.start_ms, sample.value, sample.count = now_ms, self._initial(), 0

    def combined(self, now_ms: float) -> tuple[float, int]:
        """(sum or max of the live samples' values, number of recorded values)."""
        self.purge(now_ms)
        count = sum(s.count for s in self._samples)
        if self.kind == "max":
            return max((s.value for s in self._samples), default=-math.inf), count
        return sum(s.value for s in self._samples), count

    def window_size_ms(self, now_ms: float) -> float:
        """Kafka's Rate.windowSize: time since the oldest sample started, padded to num_samples - 1 windows."""
        self.purge(now_ms)
        oldest = min((s.start_ms for s in self._samples), default=now_ms)
        elapsed = now_ms - oldest
        full = int(elapsed // self.window_ms)
        if full < self.num_samples - 1:
            elapsed += (self.num_samples - 1 - full) * self.window_ms
        return max(elapsed, 1.0)


class WindowedRate:
    """Kafka's Rate over a WindowedSum (`sum`: e.g. records per second) or a WindowedCount (`count`: calls per
    second, e.g. commit-rate)."""

    def __init__(self, kind: str = "sum", window_ms: float = DEFAULT_WINDOW_MS,
                 samples: int = DEFAULT_SAMPLES) -> None:
        self.stat = SampledStat(kind, window_ms, samples)

    def record(self, value: float, now_ms: float) -> None:
        self.stat.record(value, now_ms)

    def measure(self, now_ms: float) -> float:
        total, _count = self.stat.combined(now_ms)
        return total / (self.stat.window_size_ms(now_ms) / 1000.0)


class WindowedAvg:
    """Kafka's Avg: the mean of the values recorded in the live samples; NaN when there is none."""

    def __init__(self, window_ms: float = DEFAULT_WINDOW_MS, samples: int = DEFAULT_SAMPLES) -> None:
        self.stat = SampledStat("sum", window_ms, samples)

    def record(self, value: float, now_ms: float) -> None:
        self.stat.record(value, now_ms)

    def measure(self, now_ms: float) -> float:
        total, count = self.stat.combined(now_ms)
        return total / count if count else math.nan


class WindowedMax:
    """Kafka's Max: the largest value recorded in the live samples; NaN when there is none."""

    def __init__(self, window_ms: float = DEFAULT_WINDOW_MS, samples: int = DEFAULT_SAMPLES) -> None:
        self.stat = SampledStat("max", window_ms, samples)

    def record(self, value: float, now_ms: float) -> None:
        self.stat.record(value, now_ms)

    def measure(self, now_ms: float) -> float:
        value, count = self.stat.combined(now_ms)
        return value if count else math.nan
