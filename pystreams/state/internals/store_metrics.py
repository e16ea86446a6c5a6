"""Kafka's stream-state-metrics of a store (StateStoreMetrics: DEBUG; record-e2e-latency TRACE) and its record
cache's stream-record-cache-metrics hit-ratio (NamedCacheMetrics, DEBUG).

Made only when metrics.recording.level is DEBUG or TRACE (sensors_for): at INFO a metered store has no sensors and
its operations are the plain methods, so the default level pays nothing per operation. At DEBUG the metered store
times its operations with instance-level wrappers (install_timed), as Kafka's maybeMeasureLatency does when the
sensor records: `<op>-rate` (calls per second) and `<op>-latency-avg/-max` in nanoseconds, Kafka's unit. A range,
all or prefix-scan counts when its iterator is closed (or runs out) and its latency is the iterator's lifetime
(Kafka's MeteredKeyValueIterator). restore times the store's init, as Kafka's MeteredKeyValueStore does.

Tags (StreamsMetricsImpl.storeLevelTagMap / cacheLevelTagMap): thread-id, task-id and `<metrics scope>-state-id`
(e.g. rocksdb-state-id, in-memory-state-id) for the store; thread-id, task-id, record-cache-id for its cache.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

STATE_GROUP = "stream-state-metrics"
CACHE_GROUP = "stream-record-cache-metrics"

_LEVELS = ("INFO", "DEBUG", "TRACE")
DEFAULT_WINDOW_MS = 30_000  # Kafka's metrics.sample.window.ms
DEFAULT_SAMPLES = 2  # Kafka's metrics.num.samples

Operations = tuple[tuple[str, tuple[str, ...]], ...]
"""(Kafka's operation name, the metered store's methods measured as it)"""

#: key-value store operations Kafka meters
KV_OPERATIONS: Operations = (
    ("put", ("put",)), ("put-if-absent", ("put_if_absent",)), ("put-all", ("put_all",)), ("get", ("get",)),
    ("delete", ("delete",)), ("flush", ("flush",)))
#: operations that return an iterator: measured from creation to close
KV_ITERATORS: Operations = (
    ("range", ("range", "reverse_range")), ("all", ("all", "reverse_all")), ("prefix-scan", ("prefix_scan",)))
#: every operation a key-value store reports (restore: its init)
KV_METRIC_OPERATIONS = tuple(op for op, _ in KV_OPERATIONS + KV_ITERATORS) + ("restore",)
#: Kafka's MeteredWindowStore: put, flush, and every read as fetch (fetch(key, start) returns a value, the others
#: an iterator)
WINDOW_OPERATIONS: Operations = (("put", ("put",)), ("flush", ("flush",)))
WINDOW_ITERATORS: Operations = (("fetch", ("backward_fetch", "fetch_key_range", "backward_fetch_key_range",
                                           "fetch_all", "backward_fetch_all", "all", "backward_all")),)
WINDOW_VALUE_OR_ITERATOR: Operations = (("fetch", ("fetch",)),)
WINDOW_METRIC_OPERATIONS = ("put", "fetch", "flush", "restore")
#: Kafka's MeteredSessionStore: put, remove, flush, and every read as fetch
SESSION_OPERATIONS: Operations = (("put", ("put",)), ("remove", ("remove",)), ("fetch", ("fetch_session",)),
                                  ("flush", ("flush",)))
SESSION_ITERATORS: Operations = (("fetch", ("fetch", "backward_fetch", "find_sessions", "backward_find_sessions",
                                            "find_sessions_by_end", "find_all_sessions")),)
SESSION_METRIC_OPERATIONS = ("put", "remove", "fetch", "flush", "restore")


def state_id_tag(metrics_scope: str) -> str:
    """Kafka's store tag key: `<metrics scope>-state-id` (StoreSupplier#metricsScope + "-" + STORE_ID_TAG)."""
    return f"{metrics_scope}-state-id"


class _Stat:
    """Kafka's windowed stats of one sensor in one ring of `samples` samples of `window_ms` (the semantics of
    runtime/sampled_stats.py, kept here because the stores import nothing from the runtime): each sample is
    [start ms, count, sum, min, max]; a sample `samples` windows old no longer counts. Rate is Kafka's Rate over a
    WindowedCount: recorded values per second of the window (its elapsed time padded to samples - 1 windows)."""

    __slots__ = ("_current", "_samples", "num_samples", "window_ms")

    def __init__(self, window_ms: float, samples: int) -> None:
        self.window_ms, self.num_samples = float(window_ms), int(samples)
        self._samples: list[list[float]] = []
        self._current = 0

    def record(self, value: float, now_ms: float) -> None:
        samples = self._samples
        if not samples:
            samples.append([now_ms, 0, 0.0, math.inf, -math.inf])
        sample = samples[self._current]
        if now_ms - sample[0] >= self.window_ms:
            self._current = (self._current + 1) % self.num_samples
            if self._current >= len(samples):
                samples.append([now_ms, 0, 0.0, math.inf, -math.inf])
            sample = samples[self._current]
            sample[:] = [now_ms, 0, 0.0, math.inf, -math.inf]
        sample[1] += 1
        sample[2] += value
        sample[3] = min(sample[3], value)
        sample[4] = max(sample[4], value)

    def _live(self, now_ms: float) -> list[list[float]]:
        expire = self.num_samples * self.window_ms
        for sample in self._samples:  # Kafka's purgeObsoleteSamples
            if now_ms - sample[0] >= expire:
                sample[:] = [now_ms, 0, 0.0, math.inf, -math.inf]
        return self._samples

    def rate(self, now_ms: float, of_sum: bool = False) -> float:
        """Kafka's Rate over the WindowedCount (of_sum: over the WindowedSum, the recorded values' sum)."""
        live = self._live(now_ms)
        count = sum(s[2] if of_sum else s[1] for s in live)
        elapsed = now_ms - min((s[0] for s in live), default=now_ms)
        full = int(elapsed // self.window_ms)
        if full < self.num_samples - 1:
            elapsed += (self.num_samples - 1 - full) * self.window_ms
        return count / (max(elapsed, 1.0) / 1000.0)

    def avg_min_max(self, now_ms: float) -> tuple[float, float, float]:
        """(avg, min, max) of the values in the live samples; NaN each with none (Kafka's Avg/Min/Max)."""
        live = [s for s in self._live(now_ms) if s[1]]
        if not live:
            return math.nan, math.nan, math.nan
        return (sum(s[2] for s in live) / sum(s[1] for s in live), min(s[3] for s in live),
                max(s[4] for s in live))

    def count(self, now_ms: float) -> int:
        return int(sum(s[1] for s in self._live(now_ms)))


class StoreSensors:
    """One store's DEBUG/TRACE sensors. Recorded on the stream thread, read under the lock from any thread;
    windows timed by the monotonic perf_counter_ns clock the latencies are measured with."""

    def __init__(self, level: str, operations: tuple[str, ...] = KV_METRIC_OPERATIONS,
                 window_ms: float = DEFAULT_WINDOW_MS, samples: int = DEFAULT_SAMPLES,
                 clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self.level = level
        self.trace = level == "TRACE"  # record-e2e-latency at the store
        self.window_ms, self.samples = window_ms, samples
        #: RocksDB's statistics-based metrics of the store (rocksdb_statistics.py), made when first read
        self.rocksdb_statistics: Any = None
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._ops = {op: _Stat(window_ms, samples) for op in operations}
        self._iterator_duration = _Stat(window_ms, samples)  # its rate is not a Kafka metric
        self._open_iterators: dict[int, float] = {}  # id(open measured iterator) -> wall ms it was made
        self.cache_hits = 0
        self.cache_misses = 0
        self.cached = False  # the store has a record cache (set by the metered store at init)
        self._e2e = _Stat(window_ms, samples) if self.trace else None
        self._hit_ratio = _Stat(window_ms, samples)

    # ---- recording (stream thread)
    def record(self, op: str, ns: float, end_ns: int | None = None) -> None:
        """One `op` that took `ns` nanoseconds (ending at end_ns of the sensor clock, now when None)."""
        now_ms = (self._clock_ns() if end_ns is None else end_ns) / 1e6
        stat = self._ops[op]
        with self._lock:
            stat.record(ns, now_ms)

    def record_e2e(self, latency_ms: float) -> None:
        """TRACE: a record's end-to-end latency when it was put into the store."""
        e2e = self._e2e
        if e2e is not None:
            now_ms = self._clock_ns() / 1e6
            with self._lock:
                e2e.record(latency_ms, now_ms)

    def record_cache_read(self, hit: bool) -> None:
        """A read of the store's record cache: Kafka's NamedCache counts hits and misses and, on a hit, records
        the hit ratio so far (hits / reads since the cache was made)."""
        if not hit:
            self.cache_misses += 1
            return
        self.cache_hits += 1
        ratio = self.cache_hits / (self.cache_hits + self.cache_misses)
        now_ms = self._clock_ns() / 1e6
        with self._lock:
            self._hit_ratio.record(ratio, now_ms)

    def timed(self, op: str, call: Callable[..., Any]) -> Callable[..., Any]:
        """`call` measured as `op` (its latency even when it raises, as Kafka's maybeMeasureLatency)."""
        clock, record = self._clock_ns, self.record

        def measured(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return call(*args, **kwargs)
            finally:
                end = clock()
                record(op, end - start, end)
        measured.__doc__ = call.__doc__
        return measured

    def timed_iterator(self, op: str, call: Callable[..., Any], wrap: Callable[[Iterator[Any]], Any]
                       ) -> Callable[..., Any]:
        """`call` returning an iterator, measured as `op` from creation to close or exhaustion; wrap(pairs) makes
        the iterator type the store returns (KeyValueIterator) over the measured one."""
        clock, lifetime = self._clock_ns, self._lifetime

        def measured(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            return wrap(lifetime(op, call(*args, **kwargs), start))
        measured.__doc__ = call.__doc__
        return measured

    def _lifetime(self, op: str, it: Any, start: int) -> Iterator[Any]:
        """The pairs of `it`, measured (op and iterator-duration) when it is closed or runs out."""
        return _MeasuredIterator(self, op, it, start)

    def _closed_iterator(self, op: str, start: int, token: int) -> None:
        end = self._clock_ns()
        self.record(op, end - start, end)
        with self._lock:
            self._iterator_duration.record(end - start, end / 1e6)
            self._open_iterators.pop(token, None)

    def timed_value_or_iterator(self, op: str, call: Callable[..., Any], wrap: type) -> Callable[..., Any]:
        """`call` returning a value or a `wrap` iterator (a window store's fetch): the iterator measured until
        closed, a value at once."""
        clock, record, lifetime = self._clock_ns, self.record, self._lifetime

        def measured(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            result = call(*args, **kwargs)
            if isinstance(result, wrap):
                return wrap(lifetime(op, result, start))
            end = clock()
            record(op, end - start, end)
            return result
        measured.__doc__ = call.__doc__
        return measured

    def e2e_after_put(self, context: Any) -> None:
        """TRACE: wall clock minus the current record's timestamp after a put (Kafka's maybeRecordE2ELatency),
        when a record is being processed (its context names the topic it came from)."""
        if self.trace and context is not None:
            rc = getattr(context, "record_context", None)
            if rc is not None and rc.topic is not None:
                self.record_e2e(time.time() * 1000.0 - rc.timestamp)

    # ---- reading (any thread)
    def values(self) -> dict[str, float]:
        """stream-state-metrics by name: `<op>-rate`, `<op>-latency-avg/-max` (ns; NaN: none in the window),
        iterator-duration-avg/-max (ns), num-open-iterators and oldest-iterator-open-since-ms (epoch ms; Kafka
        records these two at INFO, pystreams only when it measures iterators: DEBUG/TRACE), and at TRACE
        record-e2e-latency-avg/-min/-max (ms)."""
        now_ms = self._clock_ns() / 1e6
        out: dict[str, float] = {}
        with self._lock:
            for op, stat in self._ops.items():
                avg, _low, high = stat.avg_min_max(now_ms)
                out[f"{op}-rate"] = stat.rate(now_ms)
                out[f"{op}-latency-avg"] = avg
                out[f"{op}-latency-max"] = high
            avg, _low, high = self._iterator_duration.avg_min_max(now_ms)
            out["iterator-duration-avg"] = avg
            out["iterator-duration-max"] = high
            out["num-open-iterators"] = len(self._open_iterators)
            if self._open_iterators:  # Kafka's gauge has no value without an open iterator
                out["oldest-iterator-open-since-ms"] = min(self._open_iterators.values())
            if self._e2e is not None:
                avg, low, high = self._e2e.avg_min_max(now_ms)
                out.update({"record-e2e-latency-avg": avg, "record-e2e-latency-min": low,
                            "record-e2e-latency-max": high})
        return out

    def cache_values(self) -> dict[str, float]:
        """stream-record-cache-metrics: hit-ratio-avg/-min/-max over the window (NaN: no hit in it)."""
        now_ms = self._clock_ns() / 1e6
        with self._lock:
            avg, low, high = self._hit_ratio.avg_min_max(now_ms)
        return {"hit-ratio-avg": avg, "hit-ratio-min": low, "hit-ratio-max": high}


class _MeasuredIterator:
    """A store iterator's pairs, measured once when closed or run out (Kafka's MeteredKeyValueIterator): closing
    it closes the store's iterator also when it was never read."""

    __slots__ = ("_it", "_op", "_sensors", "_start", "_token")

    def __init__(self, sensors: StoreSensors, op: str, it: Any, start: int) -> None:
        self._sensors, self._op, self._it, self._start = sensors, op, it, start
        self._token: int | None = id(self)
        with sensors._lock:
            sensors._open_iterators[id(self)] = time.time() * 1000.0

    def __iter__(self) -> _MeasuredIterator:
        return self

    def __next__(self) -> tuple[Any, ...]:
        try:
            return tuple(next(self._it))
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        close = getattr(self._it, "close", None)
        if close is not None:
            close()
        self._sensors._closed_iterator(self._op, self._start, token)


def recording_level_of(configs: Mapping[str, Any] | None) -> str:
    """metrics.recording.level of a store's context configs (INFO when unset or unknown: the client validated it)."""
    level = (configs or {}).get("metrics.recording.level") or "INFO"
    return str(level) if level in _LEVELS else "INFO"


def sensors_for(context: Any, operations: tuple[str, ...] = KV_METRIC_OPERATIONS) -> StoreSensors | None:
    """A store's sensors when its context's metrics.recording.level is DEBUG or TRACE, else None (INFO: nothing
    is measured); windows from metrics.sample.window.ms / metrics.num.samples."""
    app_configs = getattr(context, "app_configs", None)
    configs = app_configs() if callable(app_configs) else getattr(context, "configs", None)
    level = recording_level_of(configs)
    if level == "INFO":
        return None
    configs = configs or {}
    try:
        window_ms = float(configs.get("metrics.sample.window.ms") or DEFAULT_WINDOW_MS)
        samples = int(configs.get("metrics.num.samples") or DEFAULT_SAMPLES)
    except (TypeError, ValueError):
        window_ms, samples = DEFAULT_WINDOW_MS, DEFAULT_SAMPLES
    if window_ms <= 0 or samples < 1:
        window_ms, samples = DEFAULT_WINDOW_MS, DEFAULT_SAMPLES
    return StoreSensors(level, operations, window_ms, samples)


def install_timed(store: Any, sensors: StoreSensors, wrap: type, inner: Mapping[str, Callable[..., Any]] | None = None,
                  operations: Operations = KV_OPERATIONS, iterators: Operations = KV_ITERATORS,
                  value_or_iterator: Operations = ()) -> list[str]:
    """Shadow the store's operation methods with measured ones on the instance (`operations`; `iterators`, whose
    results are measured until closed; `value_or_iterator`, measured until closed when they return a `wrap`
    iterator, else at once; a key-value store's by default, a window or session store passes its own). `wrap` is
    the iterator type the store returns (KeyValueIterator). `inner` replaces what is measured for some of them
    (the method plus its own recording, e.g. cache hits). Returns the attribute names set, for uninstall_timed."""
    installed = []
    inner = inner or {}
    for op, names in value_or_iterator:
        for name in names:
            call = inner.get(name) or getattr(type(store), name).__get__(store)
            setattr(store, name, sensors.timed_value_or_iterator(op, call, wrap))
            installed.append(name)
    for op, names in operations:
        for name in names:
            call = inner.get(name) or getattr(type(store), name).__get__(store)
            setattr(store, name, sensors.timed(op, call))
            installed.append(name)
    for op, names in iterators:
        for name in names:
            setattr(store, name, sensors.timed_iterator(op, getattr(type(store), name).__get__(store), wrap))
            installed.append(name)
    return installed


def uninstall_timed(store: Any, installed: Iterable[str]) -> None:
    """Back to the class's plain methods (a closed store's sensors are gone, as Kafka removes them)."""
    for name in installed:
        store.__dict__.pop(name, None)


class SensedStore:
    """What Kafka's metered key-value, window and session stores share for their DEBUG/TRACE sensors: init timed as
    the store's restore (Kafka's Metered*Store.init), the measured operations installed on the instance while it is
    open and removed at close, and whether a record cache sits right below (stream-record-cache-metrics)."""

    #: DEBUG/TRACE: Kafka's store sensors while open; None at INFO
    sensors: StoreSensors | None = None
    _metered_ops: tuple[str, ...] = ()  # the measured operations installed on the instance
    _store_context: Any = None  # the init context (TRACE: the current record's timestamp)

    def _init_sensed(self, init: Callable[[], None], context: Any, operations: tuple[str, ...],
                     cached: bool) -> StoreSensors | None:
        """Run the store stack's `init`; at DEBUG/TRACE time it as restore and keep the sensors (returned; `cached`:
        a record cache sits right below), else None and nothing measured."""
        sensors = sensors_for(context, operations)
        if sensors is None:
            init()
            return None
        start = time.perf_counter_ns()
        init()
        end = time.perf_counter_ns()
        sensors.record("restore", end - start, end)
        sensors.cached = cached
        self._store_context, self.sensors = context, sensors
        return sensors

    def _install_sensed(self, sensors: StoreSensors, wrap: type, inner: Mapping[str, Callable[..., Any]],
                        operations: Operations, iterators: Operations, value_or_iterator: Operations = ()) -> None:
        """install_timed on this store, remembered for _close_sensed."""
        self._metered_ops = tuple(install_timed(self, sensors, wrap, inner, operations, iterators, value_or_iterator))

    def _close_sensed(self) -> None:
        """Back to the plain methods, sensors gone (before the stack closes)."""
        if self._metered_ops:
            uninstall_timed(self, self._metered_ops)
            self._metered_ops = ()
        self.sensors = None
        self._store_context = None


#: Kafka's RocksDB property-based metrics (RocksDBMetrics, KIP-607; recording level INFO): each is RocksDB's
#: property "rocksdb.<name>", read when metrics are read, so they cost nothing while processing
ROCKSDB_PROPERTIES = (
    "num-immutable-mem-table", "cur-size-active-mem-table", "cur-size-all-mem-tables", "size-all-mem-tables",
    "num-entries-active-mem-table", "num-entries-imm-mem-tables", "num-deletes-active-mem-table",
    "num-deletes-imm-mem-tables", "mem-table-flush-pending", "num-running-flushes", "compaction-pending",
    "num-running-compactions", "estimate-pending-compaction-bytes", "total-sst-files-size", "live-sst-files-size",
    "num-live-versions", "block-cache-capacity", "block-cache-usage", "block-cache-pinned-usage",
    "estimate-num-keys", "estimate-table-readers-mem", "background-errors")


def rocksdb_property_values(store: Any) -> dict[str, float]:
    """The RocksDB property metrics of a store whose innermost layer is one RocksDB instance (a key-value store);
    {} for any other store, and when the store is closed (also while being read: the DB raises, no value)."""
    inner = store
    while hasattr(inner, "wrapped"):
        inner = inner.wrapped
    db = getattr(inner, "_db", None)
    read = getattr(db, "property_int_value", None)
    if read is None:
        return {}
    out: dict[str, float] = {}
    try:
        for name in ROCKSDB_PROPERTIES:
            value = read(f"rocksdb.{name}")
            if value is not None:
                out[name] = float(value)
    except Exception:  # noqa: BLE001 - rocksdict's DbClosedError: the store closed under the reader
        return {}
    return out
