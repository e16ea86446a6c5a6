"""The streams benchmark, one command (issue 7):

    .venv/bin/python -m bench.streams.run [--records 100000] [--broker pystreams|kafka|both]
        [--systems pystreams,kafka-streams,quix,faust,handwritten] [--workloads stateless,count,window]
        [--profile] [--markdown FILE]

For each broker (ours first, then Apache Kafka 4.1.1), each workload and each system: a fresh
3-partition input topic preloaded with --records ~100-byte JSON records, the system started as its
own process, timed until its output topic holds every expected result, then --latency-records
paced records for the end-to-end latency, then the process stopped (SIGTERM, SIGKILL after 20 s).
Prints records/s and p99 per system and pystreams' ratio to each other system. Not a test.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.streams import report
from bench.streams.harness import RunResult, run_one, warm_up_broker
from bench.streams.systems.specs import SYSTEMS, build_spec, prepare
from bench.streams.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]


def _start_broker(name: str, stack: ExitStack) -> str:
    if name == "pystreams":
        from pystreams.broker import EmbeddedBroker

        return str(stack.enter_context(EmbeddedBroker()).bootstrap_servers)
    sys.path.insert(0, str(ROOT))
    from tests.reference.kafka import ReferenceKafka

    return stack.enter_context(ReferenceKafka(fast_start=False, heap="1g")).bootstrap_servers


def _csv(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad:
        raise SystemExit(f"unknown {what}: {', '.join(bad)} (known: {', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streams.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1000, help="distinct words (count/window keys)")
    parser.add_argument("--broker", choices=("pystreams", "kafka", "both"), default="both")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per system run")
    parser.add_argument("--commit-interval-ms", type=int, default=1000)
    parser.add_argument("--latency-records", type=int, default=1500)
    parser.add_argument("--latency-rate", type=float, default=500.0, help="records/s in the latency phase")
    parser.add_argument("--profile", action="store_true", help="also profile pystreams (cProfile) per workload")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    parser.add_argument("--json", type=Path,
                        help="also write every result as JSON here, rewritten after each run (a cut run keeps its "
                             "results), each with the 1-minute load average when it ended")
    parser.add_argument("--run-dir", type=Path, help="logs and state (default: a temp dir, kept)")
    args = parser.parse_args(argv)
    systems = _csv(args.systems, SYSTEMS, "systems")
    workloads = _csv(args.workloads, WORKLOADS, "workloads")
    brokers = ["pystreams", "kafka"] if args.broker == "both" else [args.broker]
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="bench-streams-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"bench/streams: {args.records} records, {args.keys} keys, systems {systems}, brokers {brokers}; "
          f"logs in {run_dir}", flush=True)
    for system in systems:
        note = prepare(system)
        if note:
            print(f"  {system}: {note}", flush=True)
    results: list[RunResult] = []
    loads: list[tuple[float, str]] = []  # (1-minute load average, UTC time) when each run ended
    profiles: dict[str, str] = {}
    for broker in brokers:
        with ExitStack() as stack:
            began = time.monotonic()
            bootstrap = _start_broker(broker, stack)
            print(f"broker {broker} at {bootstrap} (started in {time.monotonic() - began:.1f} s; warm-up round trip "
                  f"{warm_up_broker(bootstrap):.1f} s)", flush=True)
            for workload in workloads:
                for system in systems:
                    result = run_one(build_spec, system, workload, broker, bootstrap, args.records, args.keys,
                                     run_dir, args.timeout, args.latency_records, args.latency_rate,
                                     args.commit_interval_ms)
                    results.append(result)
                    load = os.getloadavg()[0]
                    print("  " + report.line(result) + f" [load {load:.1f}]", flush=True)
                    if args.json:
                        loads.append((load, time.strftime("%H:%M:%S", time.gmtime())))
                        _write_json(args.json, results, loads)
                if args.profile and "pystreams" in systems:
                    path = run_dir / f"profile-{broker}-{workload}.pstats"
                    result = run_one(lambda s, **kw: build_spec(s, profile=str(path), **kw), "pystreams",
                                     workload, broker, bootstrap, args.records, args.keys, run_dir, args.timeout,
                                     0, args.latency_rate, args.commit_interval_ms)
                    if path.exists():
                        profiles[f"{broker}/{workload}"] = report.profile_summary(path)
                        print(f"  profiled pystreams {workload} on {broker}: {report.line(result)}", flush=True)
                    else:
                        print(f"  profile of pystreams {workload} on {broker} missing: {result.error}", flush=True)
    settings = {"records": args.records, "keys": args.keys, "commit.interval.ms": args.commit_interval_ms,
                "latency records": args.latency_records, "latency rate": args.latency_rate,
                "timeout": args.timeout}
    text = report.tables(results, settings, machine())
    print(text)
    for name, summary in profiles.items():
        print(f"\nprofile of pystreams, {name} (cProfile, stream thread, top by own time):\n{summary}")
    if args.markdown:
        body = text + "".join(f"\n#### Profile: pystreams {name}\n\n```\n{summary}\n```\n"
                              for name, summary in profiles.items())
        args.markdown.write_text(body)
        print(f"wrote {args.markdown}")
    return 0


def _write_json(path: Path, results: list[RunResult], loads: list[tuple[float, str]]) -> None:
    rows = [{**dataclasses.asdict(r), "rate": r.rate, "processing_rate": r.processing_rate, "load_1m": load,
             "ended_utc": at} for r, (load, at) in zip(results, loads)]
    path.write_text(json.dumps(rows, indent=1))


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}",
            "load average at the end": " ".join(f"{x:.1f}" for x in os.getloadavg())}


if __name__ == "__main__":
    sys.exit(main())
