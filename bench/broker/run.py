"""Side-by-side broker benchmark: the same loads against Apache Kafka and our broker in one run.

    .venv/bin/python -m bench.broker.run [--records 200000] [--profile] [--pread]

Loads (1 KiB records, 6 partitions): kafka-producer-perf-test and a confluent-kafka producer
with acks=1 and acks=all (MB/s, p50/p99 produce latency), then kafka-consumer-perf-test and a
confluent-kafka consumer reading the acks=1 topic (MB/s). Each load runs on every system in
turn before the next load starts, so a change in machine load hits both alike; every system
first gets an unmeasured warm-up (the JVM's JIT; same load for ours). --pread adds our
broker with the pread fetch path (PYSTREAMS_FETCH_SENDFILE=0) as a third system; --profile ends
with a cProfile pass of our broker under the Java produce + consume loads and prints where its
time goes. --repeat K runs each load K times (systems interleaved) and tables the median;
--loads fetch skips the produce rows except the one that writes the topic fetch reads.
Not a test: it prints numbers (docs/benchmarks.md records them), it never fails on them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

from bench.broker import loads
from bench.broker.loads import Result
from bench.broker.systems import Kafka, Pystreams


def _machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"nproc={os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f}")


def _loads(records: int, size: int, partitions: int
           ) -> list[tuple[str, Callable[[str, str], Result], str]]:
    """(row name, load(servers, run_id) -> Result, kind) in the order they run."""
    def produce(tool: str, acks: str) -> Callable[[str, str], Result]:
        def run(servers: str, run_id: str) -> Result:
            topic = f"bench-{tool}-acks{acks}-{run_id}"
            loads.create_topic(servers, topic, partitions)
            fn = loads.java_produce if tool == "java" else loads.confluent_produce
            return fn(servers, topic, records, size, acks)
        return run

    def consume(tool: str) -> Callable[[str, str], Result]:
        def run(servers: str, run_id: str) -> Result:
            topic = f"bench-java-acks1-{run_id}"  # written by the first load
            if tool == "java":
                return loads.java_consume(servers, topic, records)
            return loads.confluent_consume(servers, topic, records, partitions)
        return run

    return [("produce, kafka-producer-perf-test, acks=1", produce("java", "1"), "produce"),
            ("produce, kafka-producer-perf-test, acks=all", produce("java", "all"), "produce"),
            ("produce, confluent-kafka, acks=1", produce("confluent", "1"), "produce"),
            ("produce, confluent-kafka, acks=all", produce("confluent", "all"), "produce"),
            ("fetch, kafka-consumer-perf-test", consume("java"), "fetch"),
            ("fetch, confluent-kafka consumer", consume("confluent"), "fetch")]


def _median(results: list[Result]) -> Result | None:
    """The run with the median MB/s (its latencies with it), or None if every run failed."""
    if not results:
        return None
    ordered = sorted(results, key=lambda r: r.mb_per_s)
    return ordered[len(ordered) // 2]


def _fmt(r: Result | None) -> str:
    return "failed" if r is None else f"{r.mb_per_s:.1f}"


def _lat(r: Result | None) -> str:
    return "" if r is None or r.p50_ms is None else f"{r.p50_ms:.0f} / {r.p99_ms:.0f}"


def table(names: list[str], rows: list[tuple[str, dict[str, Result | None]]]) -> str:
    """Markdown: MB/s per system, ours/Kafka ratio, p50/p99 produce latency (ms)."""
    ours = [n for n in names if n != "kafka"]
    head = (["load", "kafka MB/s"] + [f"{n} MB/s" for n in ours] + [f"{n}/kafka" for n in ours]
            + ["kafka p50/p99 ms"] + [f"{n} p50/p99 ms" for n in ours])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for load, results in rows:
        ref = results.get("kafka")
        ratios = []
        for n in ours:
            mine = results.get(n)
            ratios.append(f"{mine.mb_per_s / ref.mb_per_s:.2f}x"
                          if ref is not None and mine is not None and ref.mb_per_s else "")
        cells = ([load, _fmt(ref)] + [_fmt(results.get(n)) for n in ours] + ratios
                 + [_lat(ref)] + [_lat(results.get(n)) for n in ours])
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def profile_ours(records: int, size: int, partitions: int, top: int) -> str:
    """Run the Java produce (acks=1) and consume loads against a cProfiled broker of ours."""
    out = Path(tempfile.mkdtemp(prefix="bench-profile-")) / "broker.prof"
    system = Pystreams("pystreams-profiled", profile_out=out)
    try:
        topic = f"bench-profile-{uuid.uuid4().hex[:6]}"
        loads.create_topic(system.bootstrap_servers, topic, partitions)
        p = loads.java_produce(system.bootstrap_servers, topic, records, size, "1")
        c = loads.java_consume(system.bootstrap_servers, topic, records)
    finally:
        system.stop()
    import io
    text = io.StringIO()
    stats = pstats.Stats(str(out), stream=text)
    text.write(f"under cProfile: produce {p.mb_per_s:.1f} MB/s, fetch {c.mb_per_s:.1f} MB/s "
               f"(profiling slows the broker; the shares below are what matters)\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    text.write(f"stats file: {out}\n")
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per load and system, interleaved; the table shows the median")
    ap.add_argument("--loads", nargs="+", choices=["produce", "fetch"],
                    default=["produce", "fetch"])
    ap.add_argument("--pread", action="store_true", help="add ours with the pread fetch path")
    ap.add_argument("--profile", action="store_true", help="end with a cProfile pass of ours")
    ap.add_argument("--warmup", type=int, default=100_000,
                    help="records produced and consumed on each system before measuring")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    print(f"machine: {_machine()}")
    print(f"settings: {args.records} records of {args.size} B, {args.partitions} partitions, "
          "linger.ms=5, batch.size=65536, compression none", flush=True)
    run_id = uuid.uuid4().hex[:6]
    systems: list[Kafka | Pystreams] = []
    try:
        started = time.monotonic()
        systems.append(Kafka())
        systems.append(Pystreams())
        if args.pread:
            systems.append(Pystreams("pystreams-pread", sendfile=False))
        print(f"brokers up in {time.monotonic() - started:.1f} s", flush=True)
        for system in systems:  # the JVM broker needs its JIT warm; ours gets the same load
            if args.warmup:
                topic = f"bench-warmup-{run_id}"
                loads.create_topic(system.bootstrap_servers, topic, args.partitions)
                loads.java_produce(system.bootstrap_servers, topic, args.warmup, args.size, "1")
                loads.java_consume(system.bootstrap_servers, topic, args.warmup)
        print(f"warmed up ({args.warmup} records each)", flush=True)
        rows: list[tuple[str, dict[str, Result | None]]] = []
        for index, (name, load, kind) in enumerate(_loads(args.records, args.size,
                                                           args.partitions)):
            if kind not in args.loads and index != 0:  # load 0 writes what fetch reads
                continue
            # produce loads write a new topic per repeat; fetch loads re-read the same one
            repeats = args.repeat if kind in args.loads else 1
            runs: dict[str, list[Result]] = {s.name: [] for s in systems}
            for attempt in range(repeats):
                for system in systems:
                    rid = run_id if attempt == 0 or kind == "fetch" else f"{run_id}r{attempt}"
                    try:
                        r = load(system.bootstrap_servers, rid)
                    except Exception as exc:  # report and go on: a benchmark never stops
                        print(f"  {system.name}: {name} failed: {exc}", flush=True)
                        continue
                    runs[system.name].append(r)
                    print(f"  {name:46} {system.name:16} {r.mb_per_s:8.1f} MB/s"
                          + (f"  p50 {r.p50_ms:.0f} ms p99 {r.p99_ms:.0f} ms"
                             if r.p50_ms is not None else "") + (f"  ({r.note})" if r.note
                                                                 else ""), flush=True)
            rows.append((name, {n: _median(rs) for n, rs in runs.items()}))
    finally:
        for system in systems:
            system.stop()
    names = [s.name for s in systems]
    print()
    print(table(names, rows))
    print(f"\nafter the run: load average {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({load: {n: (r.__dict__ if r else None)
                                                for n, r in res.items()}
                                         for load, res in rows}, indent=2))
    if args.profile:
        print()
        print(profile_ours(args.records, args.size, args.partitions, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
