"""Kafka's RocksDB statistics-based metrics (KIP-471: RocksDBMetrics / RocksDBMetricsRecorder; stream-state-metrics,
DEBUG): bytes written and read, memtable and block cache hit ratios, flush and compaction times, write stalls, file
errors of a store's RocksDB, from RocksDB's own statistics.

As Kafka: statistics are enabled on a store's Options only at metrics.recording.level DEBUG/TRACE (they cost RocksDB
some time per operation; enable_statistics, called by rocksdb_options.store_options), and are recorded once a minute
(Kafka's RocksDBMetricsRecordingTrigger: every minute from the start): each recording takes the tickers' increase
since the previous one. Here a recording happens when metrics are read and a minute has passed since the last (the
first read records at once), so nothing runs on the stream thread. rocksdict hands the statistics over as RocksDB's
text dump (Options.get_statistics()), parsed when recording.

Values as Kafka computes them: `<x>-rate` is a Rate over the windowed sum of the recorded increases, `<x>-total` their
cumulative sum; the hit ratios are hits / (hits + misses) of the last minute (0 without hits); flush and compaction
time avg / max come from RocksDB's cumulative histograms (microseconds, as RocksDB records them, whatever Kafka's
descriptions say); write-stall-duration-avg averages the per-minute stall time. Not reported: memtable-flush-time-min
and compaction-time-min (RocksDB's text dump has no histogram minimum), number-open-files (RocksDB 9 has no
file-close ticker any more). Only stores with one RocksDB instance behind them (key-value stores, window stores on
one physical RocksDB) report.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pystreams.state.internals.store_metrics import _Stat, recording_level_of

#: Kafka's recording interval (KafkaStreams schedules the RocksDB metrics trigger every minute)
RECORDING_INTERVAL_S = 60.0

_TICKERS = {
    "rocksdb.bytes.written": "bytes-written", "rocksdb.bytes.read": "bytes-read",
    "rocksdb.flush.write.bytes": "memtable-bytes-flushed", "rocksdb.memtable.hit": "memtable-hit",
    "rocksdb.memtable.miss": "memtable-miss", "rocksdb.block.cache.data.hit": "data-hit",
    "rocksdb.block.cache.data.miss": "data-miss", "rocksdb.block.cache.index.hit": "index-hit",
    "rocksdb.block.cache.index.miss": "index-miss", "rocksdb.block.cache.filter.hit": "filter-hit",
    "rocksdb.block.cache.filter.miss": "filter-miss", "rocksdb.stall.micros": "write-stall-duration",
    "rocksdb.compact.read.bytes": "bytes-read-compaction", "rocksdb.compact.write.bytes": "bytes-written-compaction",
    "rocksdb.no.file.errors": "number-file-errors",
}
_HISTOGRAMS = {"rocksdb.db.flush.micros": "memtable-flush-time", "rocksdb.compaction.times.micros": "compaction-time"}
#: recorded increases reported as Kafka's `-rate` (windowed sum per second) / `-total` (cumulative sum)
_RATES = ("bytes-written", "bytes-read", "memtable-bytes-flushed", "bytes-read-compaction", "bytes-written-compaction")
_TOTALS = ("bytes-written", "bytes-read", "memtable-bytes-flushed", "write-stall-duration", "number-file-errors")
_HIT_RATIOS = (("memtable-hit-ratio", "memtable"), ("block-cache-data-hit-ratio", "data"),
               ("block-cache-index-hit-ratio", "index"), ("block-cache-filter-hit-ratio", "filter"))


def enable_statistics(options: Any, configs: Mapping[str, Any] | None) -> None:
    """Kafka's RocksDBStore.maybeSetUpStatistics: statistics on at metrics.recording.level DEBUG/TRACE only."""
    if recording_level_of(configs) != "INFO":
        options.enable_statistics()


def parse_statistics(text: str) -> dict[str, float]:
    """The tickers and histograms Kafka's recorder reads, from RocksDB's statistics dump: `<ticker>` -> count,
    `<histogram>.count` / `.sum` / `.max` (its P100)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        key = _TICKERS.get(name) or _HISTOGRAMS.get(name)
        if key is None:
            continue
        parts = rest.split()
        fields = dict(zip(parts[0::3], parts[2::3]))  # "COUNT : 5" / "P50 : 0.0 ... COUNT : 0 SUM : 0"
        try:
            if name in _TICKERS:
                out[key] = float(fields["COUNT"])
            else:
                out[f"{key}.count"] = float(fields["COUNT"])
                out[f"{key}.sum"] = float(fields["SUM"])
                out[f"{key}.max"] = float(fields["P100"])
        except (KeyError, ValueError):
            continue  # a RocksDB whose dump lacks the field: that metric stays unrecorded
    return out


class RocksDBStatistics:
    """One store's statistics-based metrics: recorded from the statistics dump at most once per interval, by
    whichever reader (metrics(), a /metrics scrape) comes first: one at a time."""

    def __init__(self, window_ms: float, samples: int, interval_s: float = RECORDING_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._recorded_at: float | None = None
        self._last: dict[str, float] = {}  # the cumulative tickers at the last recording
        self._rates = {name: _Stat(window_ms, samples) for name in _RATES}
        self._stall = _Stat(window_ms, samples)
        self._totals = dict.fromkeys(_TOTALS, 0.0)
        self._values: dict[str, float] = {}

    def maybe_record(self, dump: Callable[[], str | None]) -> None:
        """Record from `dump()` (the statistics text, None: no statistics) when the interval has passed."""
        with self._lock:
            self._maybe_record(dump)

    def _maybe_record(self, dump: Callable[[], str | None]) -> None:
        now = self._clock()
        if self._recorded_at is not None and now - self._recorded_at < self.interval_s:
            return
        text = dump()
        if text is None:
            return
        current = parse_statistics(text)
        last, self._last, self._recorded_at = self._last, current, now
        increase = {name: value - last.get(name, 0.0) for name, value in current.items()}
        now_ms = now * 1000.0
        for name, stat in self._rates.items():
            if name in increase:
                stat.record(increase[name], now_ms)
        for name in self._totals:
            self._totals[name] += increase.get(name, 0.0)
        if "write-stall-duration" in increase:
            self._stall.record(increase["write-stall-duration"], now_ms)
        values = self._values
        for metric, prefix in _HIT_RATIOS:
            hits, misses = increase.get(f"{prefix}-hit", 0.0), increase.get(f"{prefix}-miss", 0.0)
            values[metric] = hits / (hits + misses) if hits else 0.0
        for histogram in _HISTOGRAMS.values():
            count = current.get(f"{histogram}.count", 0.0)
            values[f"{histogram}-avg"] = current.get(f"{histogram}.sum", 0.0) / count if count else 0.0
            values[f"{histogram}-max"] = current.get(f"{histogram}.max", 0.0)

    def values(self) -> dict[str, float]:
        """The metrics by Kafka's names ({} before the first recording)."""
        with self._lock:
            if self._recorded_at is None:
                return {}
            now_ms = self._clock() * 1000.0
            out = {f"{name}-rate": stat.rate(now_ms, of_sum=True) for name, stat in self._rates.items()}
            out.update({f"{name}-total": total for name, total in self._totals.items()})
            out["write-stall-duration-avg"] = self._stall.avg_min_max(now_ms)[0]
            out.update(self._values)
            return out


def rocksdb_statistics_values(store: Any, sensors: Any) -> dict[str, float]:
    """The statistics-based metrics of a store whose innermost layer opened one RocksDB with statistics (DEBUG/TRACE:
    its sensors keep the recorder), recorded first when due; {} for any other store or a closed one."""
    inner = store
    while hasattr(inner, "wrapped"):
        inner = inner.wrapped
    opened = getattr(inner, "_options", None)
    options = getattr(opened, "options", None)
    if options is None or sensors is None:
        return {}
    with sensors._lock:  # one recorder per store, whichever reader comes first
        recorder = sensors.rocksdb_statistics
        if recorder is None:
            recorder = sensors.rocksdb_statistics = RocksDBStatistics(sensors.window_ms, sensors.samples)
    recorder.maybe_record(options.get_statistics)
    return recorder.values()
