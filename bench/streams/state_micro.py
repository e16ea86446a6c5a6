"""In-process micro benchmark of the stateful per-record path: no broker, no consumer, no producer.

The count and window topologies of bench/streams (same DSL as systems/pystreams_app.py) run in one StreamTask
over a RocksDB store with a changelog and Kafka Streams' default 10 MB record cache; the collector only counts
what it is sent. Records are handed over in batches of 1,000 (like a consume(1000)) and the task commits every
--commit-every records (a 1 s commit interval at ~100k rec/s). Rates are records per CPU second of this process
(time.process_time(), steadier than wall time on a shared machine). Also `store`: a bare get+put per record on the
store stack (Metered(Caching(ChangeLogging(RocksDB)))), to separate store costs from the engine's.

    .venv/bin/python -m bench.streams.state_micro --workloads count,window,store --records 200000 [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import tempfile
import time
from datetime import timedelta
from typing import Any

from bench.streams.workloads import WINDOW_MS, generate

INPUT = "input"
OUTPUT = "output"


def topology(workload: str) -> Any:
    """The bench's count / window topologies (kept equal to bench/streams/systems/pystreams_app.py)."""
    from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows

    builder = StreamsBuilder()
    stream = builder.stream(INPUT, Consumed(key_serde=Serdes.String(), value_serde=Serdes.JSON()))
    grouped = (stream.map_values(lambda v: v["word"])
               .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String())))
    if workload == "count":
        (grouped.count(Materialized(name="word-counts"))
            .to_stream()
            .to(OUTPUT, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    else:
        (grouped.windowed_by(TimeWindows.of_size_with_no_grace(timedelta(milliseconds=WINDOW_MS)))
            .count(Materialized(name="window-counts"))
            .to_stream(lambda wk, _v: f"{wk.key}@{wk.window.start}")
            .to(OUTPUT, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()


class CountingCollector:
    """A RecordCollector that keeps only counts per topic and the last value per (topic, key)."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.latest: dict[bytes | None, bytes | None] = {}
        self.flushes = 0

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        self.sent[topic] = self.sent.get(topic, 0) + 1
        if topic == OUTPUT:
            self.latest[key] = value

    def flush(self) -> None:
        self.flushes += 1

    def partitions_for(self, topic: str) -> int | None:
        return 1


def run_topology(workload: str, records: list[Any], state_dir: str, commit_every: int,
                 cache_bytes: int | None) -> tuple[float, CountingCollector]:
    """Seconds to process every record (commits included) and the collector."""
    from pystreams.processor.internals.task import StreamTask

    configs: dict[str, Any] = {"application.id": f"micro-{workload}"}
    if cache_bytes is not None:
        configs["statestore.cache.max.bytes"] = cache_bytes
    collector = CountingCollector()
    task = StreamTask(topology(workload), "0_0", configs, collector, state_dir=state_dir)
    task.initialize()
    raw = [(i, r.timestamp, r.key, r.value, ()) for i, r in enumerate(records)]
    start = time.process_time()
    since_commit = 0
    for i in range(0, len(raw), 1000):
        batch = raw[i:i + 1000]
        task.add_records(INPUT, 0, batch)
        task.process_batch(len(batch))
        since_commit += len(batch)
        if since_commit >= commit_every:
            task.commit()
            since_commit = 0
    task.commit()
    elapsed = time.process_time() - start
    task.close()
    return elapsed, collector


def run_store(records: list[Any], state_dir: str, commit_every: int) -> tuple[float, int]:
    """A bare count on the timestamped store stack: get + put(ValueAndTimestamp) per record."""
    from pystreams.serdes import Serdes
    from pystreams.state import Stores, ValueAndTimestamp
    from pystreams.state.context import RecordContext, StateStoreContext
    from pystreams.state.internals.cache import ThreadCache

    sent = [0]

    def sender(*_args: Any) -> None:
        sent[0] += 1

    ctx = StateStoreContext("micro-store", "0_0", state_dir, cache=ThreadCache(10 * 1024 * 1024),
                            changelog_sender=sender)
    store = (Stores.timestamped_key_value_store_builder(Stores.persistent_timestamped_key_value_store("counts"),
                                                        Serdes.String(), Serdes.Long())
             .with_caching_enabled().build())
    store.init(ctx, store)
    keys = [r.key.decode() for r in records]
    start = time.process_time()
    for i, (k, r) in enumerate(zip(keys, records)):
        ctx.record_context = RecordContext(r.timestamp, i, INPUT, 0, ())
        old = store.get(k)
        store.put(k, ValueAndTimestamp(1 if old is None else old.value + 1, r.timestamp))
        if i % commit_every == commit_every - 1:
            store.flush()
    store.flush()
    elapsed = time.process_time() - start
    store.close()
    return elapsed, sent[0]


def run_segments(records: list[Any], state_dir: str, commit_every: int) -> tuple[float, int]:
    """The window workload's traffic on the bare RocksDB window store (no cache, no changelog, no serdes): per
    commit, a fetch of each (key, window) the commit touched, then one write_flushed batch of them."""
    from pystreams.state.context import StateStoreContext
    from pystreams.state.window.keys import to_store_key
    from pystreams.state.window.segmented import RocksDBSegmentedWindowStore
    from pystreams.state.window.stores import persistent_window_store

    supplier = persistent_window_store("segments", WINDOW_MS, WINDOW_MS)  # the DSL's retention: size + no grace
    store = RocksDBSegmentedWindowStore(supplier.name, supplier.retention_period_ms, supplier.segment_interval_ms,
                                        supplier.window_size_ms, False)
    store.init(StateStoreContext("micro-segments", "0_0", state_dir), store)
    commits = []
    for i in range(0, len(records), commit_every):
        touched = {(r.key, r.timestamp - r.timestamp % WINDOW_MS): r.timestamp for r in records[i:i + commit_every]}
        commits.append([(key, start, to_store_key(key, start), ts) for (key, start), ts in touched.items()])
    value = bytes(16)
    writes = 0
    start_cpu = time.process_time()
    for touched in commits:
        for key, window_start, _store_key, _ts in touched:
            store.fetch(key, window_start)
        store.write_flushed([(store_key, value, ts) for _k, _s, store_key, ts in touched])
        writes += len(touched)
    elapsed = time.process_time() - start_cpu
    store.close()
    return elapsed, writes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="count,window,store")
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--keys", type=int, default=1_000)
    p.add_argument("--commit-every", type=int, default=100_000)
    p.add_argument("--cache-bytes", type=int, default=None, help="statestore.cache.max.bytes (default 10 MB)")
    p.add_argument("--profile", action="store_true", help="print the top functions by own time (cProfile)")
    p.add_argument("--repeat", type=int, default=1, help="runs per workload; the best is reported")
    args = p.parse_args()
    records = generate(args.records, args.keys, end_ms=1_700_000_000_000)
    print(f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {args.records} records, {args.keys} keys, "
          f"commit every {args.commit_every}")
    for workload in args.workloads.split(","):
        best = None
        for _ in range(args.repeat):
            state_dir = tempfile.mkdtemp(prefix="state-micro-")
            profiler = cProfile.Profile() if args.profile else None
            try:
                if profiler:
                    profiler.enable()
                if workload == "store":
                    elapsed, sent = run_store(records, state_dir, args.commit_every)
                    detail = f"changelog {sent}"
                elif workload == "segments":
                    elapsed, writes = run_segments(records, state_dir, args.commit_every)
                    detail = f"window writes {writes}"
                else:
                    elapsed, collector = run_topology(workload, records, state_dir, args.commit_every,
                                                      args.cache_bytes)
                    detail = ", ".join(f"{t.split('-')[-1] if t != OUTPUT else t} {n}"
                                       for t, n in sorted(collector.sent.items()))
                if profiler:
                    profiler.disable()
            finally:
                shutil.rmtree(state_dir, ignore_errors=True)
            best = elapsed if best is None else min(best, elapsed)
            if profiler:
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        assert best is not None
        print(f"{workload:7s} {args.records / best:10,.0f} rec/s  ({best:.2f} s; {detail})", flush=True)


if __name__ == "__main__":
    main()
