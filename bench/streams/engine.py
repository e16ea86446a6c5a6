"""In-process engine micro benchmark: the per-record cost of pystreams' task engine, with no broker.

Feeds N pre-encoded input records (bench/streams/workloads.py) through StreamTask.add_records /
process_batch of the stateless, count and window topologies of bench/streams/systems/pystreams_app.py,
in batches as the stream thread hands them over, with a collector that only counts what it is sent
(sink outputs and changelog records). A commit (cache flush, store flush) runs every --commit-every
records, as the runtime does every commit interval. A hand-written loop doing the same work on the
same records (msgspec/orjson, dict state) is measured alongside as the ceiling.

    .venv/bin/python -m bench.streams.engine [--records 100000] [--workloads stateless,count,window]
                                             [--repeat 3] [--profile FILE] [--sort tottime]
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import shutil
import tempfile
import time
from collections import Counter
from typing import Any

from bench.streams.workloads import WORKLOADS, InputRecord, generate, stateless, window_key

PARTITION_BATCH = 1_000  # records per add_records call: a consume() batch split per partition


class CountingCollector:
    """A RecordCollector that counts sent records per topic and keeps nothing."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.flushes = 0

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        self.sent[topic] += 1

    def flush(self) -> None:
        self.flushes += 1

    def partitions_for(self, topic: str) -> int | None:
        return None


_clock = time.perf_counter  # --cpu: time.process_time (the process' CPU time: moves less with the machine's load)


def _raw(records: list[InputRecord]) -> list[tuple[int, int, bytes, bytes, Any]]:
    return [(offset, r.timestamp, r.key, r.value, ()) for offset, r in enumerate(records)]


class ProducingCollector:
    """The runtime's KafkaRecordCollector on a real confluent-kafka Producer that never reaches a broker: every
    send pays produce() as in a run (records queue in librdkafka and are purged at each commit), and what was
    sent is counted per topic from the collector's own count and the sink's direct produce() calls."""

    def __init__(self) -> None:
        from pystreams.runtime.collector import KafkaRecordCollector

        from confluent_kafka import Producer

        config = {"bootstrap.servers": "127.0.0.1:9", "queue.buffering.max.messages": 10_000_000,
                  "queue.buffering.max.kbytes": 2_000_000, "linger.ms": 60_000, "log_level": 0}
        self.inner = KafkaRecordCollector(config)
        # no delivery callback at all: the purges below would report every purged record to it (a Python call
        # each), which no run pays
        self.inner.producer = Producer(config)
        self.inner._produce = self.inner.producer.produce
        self.sent: Counter[str] = Counter()
        self.flushes = 0
        produce = self.inner._produce
        sent = self.sent

        def counted(topic: str, *args: Any) -> None:  # a sink's direct produce(): counted, then the C call
            produce(topic, *args)
            sent[topic] += 1
        self._counted = counted

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        self.inner.send(topic, key, value, headers, timestamp, partition)
        self.sent[topic] += 1

    def direct_send(self) -> Any:
        return self._counted

    def batch_producer(self) -> Any:
        return self.inner._produce

    def add_sent(self, topic: str, partition: int, n: int) -> None:
        self.inner.add_sent(topic, partition, n)
        self.sent[topic] += n

    def flush(self) -> None:
        self.flushes += 1
        self.inner.producer.purge(in_queue=True, in_flight=True, blocking=False)
        self.inner.producer.poll(0)

    def close(self) -> None:
        self.inner.producer.purge(in_queue=True, in_flight=True, blocking=False)


def run_engine(workload: str, raw: list[tuple[int, int, bytes, bytes, Any]], commit_every: int,
               profile: cProfile.Profile | None = None, producing: bool = False) -> tuple[float, Any]:
    """Seconds to process every record of raw through one task of the workload's topology (+ final commit).
    producing: sends go through the runtime's collector into a real (unconnected) producer."""
    from bench.streams.systems.pystreams_app import topology
    from pystreams.processor.internals.task import StreamTask
    from pystreams.processor.task_id import TaskId

    state_dir = tempfile.mkdtemp(prefix="pystreams-engine-")
    collector: Any = ProducingCollector() if producing else CountingCollector()
    try:
        topo = topology(workload, "input", "output")
        task = StreamTask(topo, TaskId(0, 0), {"application.id": f"engine-{workload}"}, collector,
                          state_dir=state_dir)
        task.initialize()
        gc.collect()
        started = _clock()
        if profile is not None:
            profile.enable()
        since_commit = 0
        for i in range(0, len(raw), PARTITION_BATCH):
            batch = raw[i:i + PARTITION_BATCH]
            task.add_records("input", 0, batch)
            task.process_batch(1_000_000)
            task.maybe_punctuate_stream_time()
            since_commit += len(batch)
            if since_commit >= commit_every:
                task.commit()
                since_commit = 0
        task.commit()
        if profile is not None:
            profile.disable()
        elapsed = _clock() - started
        task.close()
        if producing:
            collector.close()
        return elapsed, collector
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def run_loop(workload: str, raw: list[tuple[int, int, bytes, bytes, Any]], commit_every: int) -> tuple[float, int]:
    """The hand-written ceiling: the same decode/compute/encode on the same records, dict state, no framework."""
    import msgspec

    decode = msgspec.json.decode
    encode = msgspec.json.encode
    out = 0
    counts: dict[Any, int] = {}
    dirty: dict[Any, int] = {}
    started = _clock()
    for i in range(0, len(raw), PARTITION_BATCH):
        for _offset, ts, key, value, _headers in raw[i:i + PARTITION_BATCH]:
            doc = decode(value)
            if workload == "stateless":
                result = stateless(doc)
                if result is not None:
                    encode(result["user"])
                    encode(result)
                    out += 1
            else:
                k = doc["word"] if workload == "count" else window_key(doc["word"], ts)
                n = counts.get(k, 0) + 1
                counts[k] = n
                dirty[k] = n
        if (i + PARTITION_BATCH) % commit_every == 0:
            out += len(dirty)
            dirty.clear()
    out += len(dirty)
    return _clock() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload; the best is reported")
    parser.add_argument("--commit-every", type=int, default=20_000,
                        help="records between commits (the runtime commits every commit.interval.ms)")
    parser.add_argument("--profile", help="cProfile one extra run per workload; stats to FILE.<workload>")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-loop", action="store_true", help="skip the hand-written loop")
    parser.add_argument("--producer", action="store_true",
                        help="send through the runtime's collector into a real, unconnected confluent-kafka "
                             "Producer (produce() paid as in a run; the queue is purged at each commit)")
    parser.add_argument("--cpu", action="store_true",
                        help="time with the process' CPU time instead of the wall clock (steadier on a busy machine)")
    args = parser.parse_args()
    if args.cpu:
        global _clock
        _clock = time.process_time
    records = generate(args.records, args.keys, end_ms=1_800_000_000_000)
    raw = _raw(records)
    print(f"{args.records:,} records, batches of {PARTITION_BATCH}, commit every {args.commit_every:,}")
    print(f"{'workload':<10} {'engine rec/s':>13} {'us/rec':>7} {'loop rec/s':>11} {'engine/loop':>11}  outputs")
    for workload in args.workloads.split(","):
        best = min((run_engine(workload, raw, args.commit_every, producing=args.producer)
                    for _ in range(args.repeat)),
                   key=lambda r: r[0])
        engine_s, collector = best
        line = f"{workload:<10} {args.records / engine_s:>13,.0f} {engine_s / args.records * 1e6:>7.2f}"
        if args.no_loop:
            line += f" {'-':>11} {'-':>11}"
        else:
            loop_s = min(run_loop(workload, raw, args.commit_every)[0] for _ in range(args.repeat))
            line += f" {args.records / loop_s:>11,.0f} {loop_s / engine_s:>10.2f}x"
        print(f"{line}  {dict(collector.sent)}", flush=True)
        if args.profile:
            prof = cProfile.Profile()
            run_engine(workload, raw, args.commit_every, prof, args.producer)
            path = f"{args.profile}.{workload}"
            prof.dump_stats(path)
            stats = pstats.Stats(path)
            stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
