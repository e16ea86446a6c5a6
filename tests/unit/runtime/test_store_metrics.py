"""Kafka's stream-state-metrics (StateStoreMetrics: DEBUG, record-e2e-latency TRACE) and the record cache's
stream-record-cache-metrics hit-ratio (NamedCacheMetrics, DEBUG) of key-value, window and session stores: nothing
installed at INFO, measured operations at DEBUG, exported with Kafka's group and tags (<scope>-state-id,
record-cache-id)."""
from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.processor import TaskId
from pystreams.runtime.client_metrics import kafka_metrics, metric_name
from pystreams.runtime.kafka_streams import State
from pystreams.runtime.metrics_exporter import kafka_families
from pystreams.runtime.thread_metrics import ThreadMetrics
from pystreams.serdes import Serdes
from pystreams.state import Stores
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import ThreadCache
from pystreams.state.internals.store_metrics import KV_METRIC_OPERATIONS

pytestmark = pytest.mark.unit

THREAD = "wc-1-StreamThread-1"


def _store(tmp_path: Any, level: str | None, backend: str = "in_memory", caching: bool = False,
           timestamped: bool = False, name: str = "counts") -> tuple[Any, StateStoreContext]:
    configs = {} if level is None else {"metrics.recording.level": level}
    context = StateStoreContext("app", TaskId(0, 0), str(tmp_path / "app" / "0_0"), configs,
                                key_serde=Serdes.String(), value_serde=Serdes.String(),
                                cache=ThreadCache(1024 * 1024), changelog_sender=lambda *a, **k: None)
    supplier = (Stores.persistent_key_value_store(name) if backend == "rocksdb"
                else Stores.in_memory_key_value_store(name))
    if timestamped:
        builder: Any = Stores.timestamped_key_value_store_builder(supplier, Serdes.String(), Serdes.Long())
    else:
        builder = Stores.key_value_store_builder(supplier, Serdes.String(), Serdes.String())
    builder.with_caching_enabled() if caching else builder.with_caching_disabled()
    store = builder.build()
    store.init(context, store)
    return store, context


def test_info_installs_nothing_the_operations_are_the_plain_methods(tmp_path):
    store, _ = _store(tmp_path, None)
    assert store.sensors is None
    assert not {"get", "put", "range", "flush"} & set(vars(store))  # no per-operation wrapper at INFO
    store.put("a", "1")
    assert store.get("a") == "1" and store.metrics.put == 1  # the totals still count
    store.close()


@pytest.mark.parametrize("backend", ["in_memory", "rocksdb"])
def test_debug_measures_each_operation_as_kafkas_rate_and_latency_in_ns(tmp_path, backend):
    store, _ = _store(tmp_path, "DEBUG", backend)
    sensors = store.sensors
    assert sensors is not None and not sensors.trace
    for i in range(3):
        store.put(f"k{i}", str(i))
    assert store.get("k1") == "1"
    assert store.put_if_absent("k1", "x") == "1"
    store.put_all([("k7", "7")])
    assert store.delete("k0") == "0"
    it = store.range("k1", "k2")
    assert [kv.key for kv in it] == ["k1", "k2"]  # a range counts once its iterator ran out (or was closed)
    all_it = store.all()
    assert all_it.has_next()
    all_it.close()
    store.flush()
    values = sensors.values()
    assert values["put-rate"] > 0 and values["put-latency-max"] >= values["put-latency-avg"] > 0
    for op in KV_METRIC_OPERATIONS:
        if op != "prefix-scan":
            assert values[f"{op}-rate"] > 0, op
    assert math.isnan(values["prefix-scan-latency-avg"])  # never called
    assert values["get-latency-avg"] < 1e9  # ns, not seconds or ms scaled wrong (well under a second)
    assert "record-e2e-latency-avg" not in values  # TRACE only
    assert store.metrics.put == 3 and store.metrics.get == 1  # the totals are unchanged by the measuring
    store.close()
    assert store.sensors is None and "put" not in vars(store)  # Kafka removes a closed store's sensors


def test_trace_adds_record_e2e_latency_at_the_store(tmp_path):
    store, context = _store(tmp_path, "TRACE")
    context.record_context.topic = "input"
    context.record_context.timestamp = int(time.time() * 1000) - 5_000  # a record 5 s old
    store.put("a", "1")
    values = store.sensors.values()
    assert 4_900 <= values["record-e2e-latency-min"] <= values["record-e2e-latency-max"] < 60_000
    store.close()


def test_cache_hit_ratio_is_kafkas_running_ratio_recorded_on_hits(tmp_path):
    store, _ = _store(tmp_path, "DEBUG", caching=True)
    assert store.sensors.cached
    assert store.get("a") is None  # miss
    store.put("a", "1")
    assert store.get("a") == "1"  # hit: 1 of 2 reads
    assert store.get("a") == "1"  # hit: 2 of 3
    cache = store.sensors.cache_values()
    assert cache["hit-ratio-min"] == pytest.approx(0.5)
    assert cache["hit-ratio-max"] == pytest.approx(2 / 3)
    assert cache["hit-ratio-avg"] == pytest.approx((0.5 + 2 / 3) / 2)
    store.close()


def test_count_updater_at_debug_goes_through_the_measured_get_and_put(tmp_path):
    store, _ = _store(tmp_path, "DEBUG", caching=True, timestamped=True)
    update = store.updater(lambda: 0, lambda k, v, agg: agg + 1, counting=True)
    for _ in range(3):
        update("w", "x", 10)
    assert store.get("w").value == 3
    values = store.sensors.values()
    assert values["get-rate"] > 0 and values["put-rate"] > 0
    assert store.sensors.cache_hits == 3  # the first read missed; the updates after it and get() hit
    store.close()


def _thread_with(store: Any, metrics: ThreadMetrics) -> SimpleNamespace:
    at = SimpleNamespace(id=TaskId(0, 0), task=SimpleNamespace(stores={store.name: store}, _queues={},
                                                                metrics=SimpleNamespace()))
    return SimpleNamespace(name=THREAD, metrics=metrics, tasks={TaskId(0, 0): at}, is_alive=lambda: True,
                           _standby=None, _restorer=None, error=None)


class _Config(dict):
    application_id = "app"


def test_store_and_cache_metrics_exported_with_kafkas_group_tags_and_on_prometheus(tmp_path):
    rocks, _ = _store(tmp_path, "DEBUG", "rocksdb", caching=True, name="rocks")
    memory, _ = _store(tmp_path, "DEBUG", "in_memory", name="mem")
    rocks.put("a", "1")
    rocks.get("a")
    memory.put("b", "2")
    metrics = ThreadMetrics({"metrics.recording.level": "DEBUG"})
    threads = [_thread_with(rocks, metrics)]
    threads[0].tasks[TaskId(0, 0)].task.stores["mem"] = memory
    streams = SimpleNamespace(client_id="wc-1", process_id="p", threads=threads, state=State.RUNNING,
                              config=_Config({"metrics.recording.level": "DEBUG"}), topology=None)
    got = kafka_metrics(streams)
    rocks_tags = {"thread-id": THREAD, "task-id": "0_0", "rocksdb-state-id": "rocks"}
    mem_tags = {"thread-id": THREAD, "task-id": "0_0", "in-memory-state-id": "mem"}
    assert got[metric_name("put-rate", "stream-state-metrics", rocks_tags)] > 0
    assert got[metric_name("put-latency-avg", "stream-state-metrics", mem_tags)] > 0
    cache_tags = {"thread-id": THREAD, "task-id": "0_0", "record-cache-id": "rocks"}
    assert got[metric_name("hit-ratio-max", "stream-record-cache-metrics", cache_tags)] == 1.0
    assert not any(n.group == "stream-record-cache-metrics" and n.tags.get("record-cache-id") == "mem" for n in got)
    samples = {(s.name, tuple(sorted(s.labels.items()))) for f in kafka_families(streams) for s in f.samples}
    # one family, two tag sets (the JMX exporter's names: every tag a label)
    assert ("kafka_streams_stream_state_metrics_put_rate",
            (("rocksdb_state_id", "rocks"), ("task_id", "0_0"), ("thread_id", THREAD))) in samples
    assert ("kafka_streams_stream_state_metrics_put_rate",
            (("in_memory_state_id", "mem"), ("task_id", "0_0"), ("thread_id", THREAD))) in samples
    rocks.close()
    memory.close()


def test_rocksdb_property_metrics_at_info_read_from_rocksdb_when_asked(tmp_path):
    rocks, _ = _store(tmp_path, None, "rocksdb", name="rocks")
    memory, _ = _store(tmp_path, None, "in_memory", name="mem")
    for i in range(5):
        rocks.put(f"k{i}", "v")
    threads = [_thread_with(rocks, ThreadMetrics())]
    threads[0].tasks[TaskId(0, 0)].task.stores["mem"] = memory
    streams = SimpleNamespace(client_id="wc-1", process_id="p", threads=threads, state=State.RUNNING,
                              config=_Config(), topology=None)
    got = kafka_metrics(streams)
    tags = {"thread-id": THREAD, "task-id": "0_0", "rocksdb-state-id": "rocks"}
    assert got[metric_name("estimate-num-keys", "stream-state-metrics", tags)] == 5
    assert got[metric_name("num-entries-active-mem-table", "stream-state-metrics", tags)] == 5
    assert got[metric_name("block-cache-capacity", "stream-state-metrics", tags)] > 0
    assert got[metric_name("background-errors", "stream-state-metrics", tags)] == 0
    assert metric_name("put-rate", "stream-state-metrics", tags) not in got  # DEBUG
    assert not any(n.group == "stream-state-metrics" and "in-memory-state-id" in n.tags for n in got)
    rocks.close()  # a closed store reports nothing (its DB raises DbClosedError)
    assert not any(n.group == "stream-state-metrics" for n in kafka_metrics(streams))
    memory.close()


def _context(tmp_path: Any, level: str) -> StateStoreContext:
    return StateStoreContext("app", TaskId(0, 0), str(tmp_path / "app" / "0_0"), {"metrics.recording.level": level},
                             cache=ThreadCache(1024 * 1024), changelog_sender=lambda *a, **k: None)


@pytest.mark.parametrize("persistent", [False, True])
def test_window_store_meters_put_fetch_flush_and_iterator_duration_like_kafkas(tmp_path, persistent):
    supplier = (Stores.persistent_window_store("win", 60_000, 1_000) if persistent
                else Stores.in_memory_window_store("win", 60_000, 1_000))
    store = Stores.window_store_builder(supplier, Serdes.String(), Serdes.String()).build()
    context = _context(tmp_path, "TRACE")
    store.init(context, store)
    context.record_context.topic = "input"
    context.record_context.timestamp = int(time.time() * 1000) - 2_000
    store.put("a", "1", 0)
    assert store.fetch("a", 0) == "1"  # a value: measured at once
    assert [v for _start, v in store.fetch("a", 0, 5_000)] == ["1"]  # an iterator: measured until it ran out
    store.flush()
    values = store.sensors.values()
    assert {k.rsplit("-", 1)[0] for k in values if k.endswith("-rate")} == {"put", "fetch", "flush", "restore"}
    assert values["put-rate"] > 0 and values["flush-rate"] > 0
    assert values["fetch-latency-max"] >= values["fetch-latency-avg"] > 0
    assert values["iterator-duration-max"] > 0
    assert values["record-e2e-latency-min"] >= 1_900
    store.close()
    assert store.sensors is None and "fetch" not in vars(store)


def test_session_store_counts_a_remove_as_remove_not_put(tmp_path):
    from pystreams.serdes.windowed import SessionWindow, Windowed
    from pystreams.state.session import in_memory_session_store, session_store_builder

    store = session_store_builder(in_memory_session_store("s", 60_000), Serdes.String(), Serdes.Long()).build()
    store.init(_context(tmp_path, "DEBUG"), store)
    store.put(Windowed("a", SessionWindow(0, 10)), 1)
    assert store.fetch_session("a", 0, 10) == 1
    store.remove(Windowed("a", SessionWindow(0, 10)))
    assert list(store.find_sessions("a", 0, 100)) == []
    sensors = store.sensors
    values = sensors.values()
    assert values["remove-rate"] > 0 and values["fetch-rate"] > 0
    assert sensors._ops["put"].count(time.perf_counter_ns() / 1e6) == 1  # the put, not the remove
    store.close()


@pytest.mark.parametrize("persistent", [False, True])
def test_window_store_cache_hit_ratio_of_single_fetches_like_kafkas_named_cache(tmp_path, persistent):
    supplier = (Stores.persistent_window_store("win", 60_000, 1_000) if persistent
                else Stores.in_memory_window_store("win", 60_000, 1_000))
    store = Stores.window_store_builder(supplier, Serdes.String(), Serdes.String()).with_caching_enabled().build()
    store.init(_context(tmp_path, "DEBUG"), store)
    sensors = store.sensors
    assert sensors.cached
    assert store.fetch("a", 1_000) is None  # miss
    store.put("a", "1", 1_000)
    assert store.fetch("a", 1_000) == "1"  # hit: 1 of 2 reads
    assert store.fetch("a", 2_000) is None  # another window of the key: a miss
    assert [v for _start, v in store.fetch("a", 0, 5_000)] == ["1"]  # a range: neither hit nor miss (Kafka's)
    assert store.fetch("a", 1_000) == "1"  # hit: 2 of 4
    assert (sensors.cache_hits, sensors.cache_misses) == (2, 2)
    cache = sensors.cache_values()
    assert (cache["hit-ratio-min"], cache["hit-ratio-max"]) == (pytest.approx(0.5), pytest.approx(0.5))
    store.close()
    assert store.sensors is None and "fetch" not in vars(store)


def test_session_store_cache_hit_ratio_of_fetch_session(tmp_path):
    from pystreams.serdes.windowed import SessionWindow, Windowed
    from pystreams.state.session import in_memory_session_store, session_store_builder

    store = session_store_builder(in_memory_session_store("s", 60_000), Serdes.String(),
                                  Serdes.Long()).with_caching_enabled().build()
    store.init(_context(tmp_path, "DEBUG"), store)
    sensors = store.sensors
    assert sensors.cached
    assert store.fetch_session("a", 0, 10) is None  # miss
    store.put(Windowed("a", SessionWindow(0, 10)), 1)
    assert store.fetch_session("a", 0, 10) == 1  # hit
    assert store.fetch_session("a", 0, 11) is None  # another session: miss
    assert list(store.find_sessions("a", 0, 100))  # a range: neither
    assert (sensors.cache_hits, sensors.cache_misses) == (1, 2)
    assert sensors.cache_values()["hit-ratio-max"] == pytest.approx(0.5)
    store.close()


def test_uncached_window_and_session_stores_report_no_cache_metrics(tmp_path):
    from pystreams.state.session import in_memory_session_store, session_store_builder

    window = Stores.window_store_builder(Stores.in_memory_window_store("win", 60_000, 1_000), Serdes.String(),
                                         Serdes.String()).with_caching_disabled().build()
    session = session_store_builder(in_memory_session_store("s", 60_000), Serdes.String(),
                                    Serdes.Long()).with_caching_disabled().build()
    for store in (window, session):
        store.init(_context(tmp_path, "DEBUG"), store)
        assert not store.sensors.cached
    window.fetch("a", 0)
    session.fetch_session("a", 0, 1)
    assert window.sensors.cache_hits + window.sensors.cache_misses == 0
    assert session.sensors.cache_hits + session.sensors.cache_misses == 0
    window.close()
    session.close()


def test_window_store_at_info_has_no_sensors(tmp_path):
    store = Stores.window_store_builder(Stores.in_memory_window_store("win", 60_000, 1_000), Serdes.String(),
                                        Serdes.String()).build()
    store.init(_context(tmp_path, "INFO"), store)
    assert store.sensors is None and not {"put", "fetch"} & set(vars(store))
    store.close()


def test_cache_size_bytes_total_is_the_bytes_of_the_tasks_record_caches_at_debug(tmp_path):
    cached, _ = _store(tmp_path, "DEBUG", caching=True, name="c1")
    plain, _ = _store(tmp_path, "DEBUG", name="c2")
    cached.put("key", "value")
    metrics = ThreadMetrics({"metrics.recording.level": "DEBUG"})
    threads = [_thread_with(cached, metrics)]
    threads[0].tasks[TaskId(0, 0)].task.stores["c2"] = plain
    streams = SimpleNamespace(client_id="wc-1", process_id="p", threads=threads, state=State.RUNNING,
                              config=_Config({"metrics.recording.level": "DEBUG"}), topology=None)
    name = metric_name("cache-size-bytes-total", "stream-task-metrics", {"thread-id": THREAD, "task-id": "0_0"})
    size = kafka_metrics(streams)[name]
    assert size == cached.wrapped._named.size > len("key") + len("value")
    streams.config = _Config()
    assert name not in kafka_metrics(streams)  # DEBUG in Kafka
    cached.close()
    plain.close()


def test_open_iterators_and_a_closed_unread_iterator_closes_the_stores_iterator(tmp_path):
    store, _ = _store(tmp_path, "DEBUG", "rocksdb")
    store.put("a", "1")
    before = time.time() * 1000
    first = store.all()
    second = store.range("a", "z")
    values = store.sensors.values()
    assert values["num-open-iterators"] == 2
    assert before <= values["oldest-iterator-open-since-ms"] <= time.time() * 1000
    first.close()  # never read: the measured iterator still closes the store's and counts
    assert first._it._it._closed  # KeyValueIterator(measured(store's KeyValueIterator))
    assert list(second) == [("a", "1")]  # ran out: closed
    values = store.sensors.values()
    assert values["num-open-iterators"] == 0 and "oldest-iterator-open-since-ms" not in values
    assert values["all-rate"] > 0 and values["range-rate"] > 0
    store.close()


def test_store_stats_follow_kafkas_rate_avg_max_windows():
    from pystreams.runtime.sampled_stats import WindowedRate
    from pystreams.state.internals.store_metrics import _Stat

    stat, reference = _Stat(1000, 2), WindowedRate("count", 1000, 2)
    for now, value in ((0.0, 5.0), (400.0, 1.0), (1200.0, 9.0), (1500.0, 3.0)):
        stat.record(value, now)
        reference.record(value, now)
    assert stat.avg_min_max(1500.0) == (pytest.approx(4.5), 1.0, 9.0)
    for now in (1500.0, 1999.0, 2300.0):  # reading purges expired samples, as Kafka's: in time order
        assert stat.rate(now) == pytest.approx(reference.measure(now)), now
    assert stat.avg_min_max(2300.0) == (pytest.approx(6.0), 3.0, 9.0)  # the first window expired
    assert stat.rate(5000.0) == pytest.approx(reference.measure(5000.0)) == 0
    assert all(math.isnan(v) for v in stat.avg_min_max(5000.0))


def test_rocksdb_statistics_metrics_at_debug_recorded_from_rocksdbs_tickers_once_a_minute(tmp_path):
    from pystreams.state.internals.rocksdb_statistics import RocksDBStatistics, rocksdb_statistics_values

    rocks, _ = _store(tmp_path, "DEBUG", "rocksdb", name="rocks")
    clock = [1000.0]
    rocks.sensors.rocksdb_statistics = RocksDBStatistics(30_000, 2, clock=lambda: clock[0])
    for i in range(100):
        rocks.put(f"k{i}", "v" * 50)
    for i in range(30):
        assert rocks.get(f"k{i}") is not None  # memtable hits
    for i in range(10):
        assert rocks.get(f"missing{i}") is None  # memtable misses (no SST file yet)
    first = rocksdb_statistics_values(rocks, rocks.sensors)
    assert first["bytes-written-total"] >= 100 * 50  # keys, values and RocksDB's write overhead
    assert first["bytes-written-rate"] > 0
    assert first["memtable-hit-ratio"] == pytest.approx(30 / 40)
    assert first["block-cache-data-hit-ratio"] == 0.0  # no block read (Kafka's 0 without hits)
    assert first["number-file-errors-total"] == 0 and first["write-stall-duration-total"] == 0
    assert first["memtable-flush-time-avg"] == 0 and first["compaction-time-max"] == 0
    for i in range(30, 40):
        rocks.get(f"k{i}")
    clock[0] += 30  # within the minute: not recorded again
    assert rocksdb_statistics_values(rocks, rocks.sensors)["memtable-hit-ratio"] == pytest.approx(30 / 40)
    clock[0] += 31  # a minute after the first recording: the increase since it
    second = rocksdb_statistics_values(rocks, rocks.sensors)
    assert second["memtable-hit-ratio"] == 1.0  # 10 hits, no miss in this minute
    assert second["bytes-written-total"] == first["bytes-written-total"]  # nothing written since
    got = kafka_metrics(SimpleNamespace(client_id="wc-1", process_id="p", state=State.RUNNING, topology=None,
                                        threads=[_thread_with(rocks, ThreadMetrics({"metrics.recording.level": "DEBUG"}))],
                                        config=_Config({"metrics.recording.level": "DEBUG"})))
    tags = {"thread-id": THREAD, "task-id": "0_0", "rocksdb-state-id": "rocks"}
    assert got[metric_name("bytes-written-total", "stream-state-metrics", tags)] == first["bytes-written-total"]
    assert got[metric_name("memtable-hit-ratio", "stream-state-metrics", tags)] == 1.0
    rocks.close()
    assert rocksdb_statistics_values(rocks, rocks.sensors) == {}  # closed: no statistics to read


def test_rocksdb_statistics_are_off_at_info(tmp_path):
    from pystreams.state.internals.rocksdb_statistics import rocksdb_statistics_values

    rocks, _ = _store(tmp_path, None, "rocksdb", name="rocks")
    rocks.put("a", "1")
    inner = rocks
    while hasattr(inner, "wrapped"):
        inner = inner.wrapped
    assert inner._options.options.get_statistics() is None  # RocksDB keeps no statistics
    got = kafka_metrics(SimpleNamespace(client_id="wc-1", process_id="p", state=State.RUNNING, topology=None,
                                        threads=[_thread_with(rocks, ThreadMetrics())], config=_Config()))
    assert not any(n.name == "bytes-written-total" for n in got)
    assert rocksdb_statistics_values(rocks, rocks.sensors) == {}
    rocks.close()
