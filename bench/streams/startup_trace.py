"""Where pystreams' start-up goes: process start -> first output, step by step (room P2, issue 7).

    .venv/bin/python -m bench.streams.startup_trace [--broker pystreams|BOOTSTRAP] [--workload stateless]
        [--records 100000] [--repeat 3] [--config key=value ...] [--warm-metadata] [--tree DIR ...]
        [--importtime FILE]

Preloads a fresh 3-partition input topic (as the benchmark does), then starts the benchmark's pystreams app
in a child process with hooks that print a timestamp (seconds since the parent started the process) for:
imports, topology build, each admin metadata/create call, KafkaStreams.start(), every request of our own
group client (FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, ...; api name, duration, error code),
the consumer's assign and first non-empty consume, the first produce() call, and the stream thread's idle sends
of lingering output (streams_producer.send_lingering: when, how long, how many). The parent reads the
output topic and adds the time the first output record was readable. Every mark also carries the process' CPU
time (all threads), which the shared machine's load moves much less than the wall clock. At the end: a table of
start-up phases (min / median over the runs). --tree DIR (repeatable) runs the app from copies of the checkout,
interleaved, for before/after comparisons; --importtime FILE keeps each run's `-X importtime` report.
Not a test; a measuring tool.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from typing import Any

T0_ENV = "PYSTREAMS_TRACE_T0"


# ---------------------------------------------------------------------------------------------- child side
def _child(argv: list[str]) -> None:
    t0 = float(os.environ[T0_ENV])

    def mark(what: str) -> None:
        print(f"{time.time() - t0:8.3f} {what} [cpu {time.process_time():.3f} s]", flush=True)

    mark("interpreter up")
    warm = os.environ.get("PYSTREAMS_TRACE_WARM") == "1"
    from bench.streams.systems import pystreams_app
    from bench.streams.systems.common import parse_args

    args = parse_args("trace", argv[:argv.index("--")] if "--" in argv else argv)
    extra = dict(kv.split("=", 1) for kv in (argv[argv.index("--") + 1:] if "--" in argv else []))
    from confluent_kafka import Consumer as _Consumer
    from confluent_kafka import Producer as _Producer
    from pystreams.broker.protocol import ApiKey

    import pystreams  # noqa: F401
    import pystreams.runtime.kafka_streams as ks
    import pystreams.runtime.stream_thread as st
    from pystreams.runtime import collector, topics
    from pystreams.runtime.group.connection import BrokerConnection
    mark("imports done (pystreams, runtime, confluent_kafka)")

    def timed(module: Any, name: str) -> None:
        original = getattr(module, name, None)
        if original is None:  # an older tree (--tree) without this step
            return

        def wrapper(*a: Any, **k: Any) -> Any:
            began = time.time() - t0
            try:
                return original(*a, **k)
            finally:
                print(f"{began:8.3f} {name}: {time.time() - t0 - began:.3f} s", flush=True)
        setattr(module, name, wrapper)

    timed(topics, "_metadata")
    timed(topics, "cluster_metadata")
    from pystreams.runtime import restore

    timed(restore, "watermarks")  # the restore consumer's ListOffsets per changelog partition (stateful apps)
    timed(ks, "plan_topology")
    timed(ks, "ensure_internal_topics")
    original_request = BrokerConnection.request

    def request(self: Any, api_key: int, body: dict[str, Any], timeout_s: float | None = None) -> Any:
        began = time.time() - t0
        version, answer = original_request(self, api_key, body, timeout_s)
        code = answer.get("error_code", "") if isinstance(answer, dict) else ""
        print(f"{began:8.3f} group client {ApiKey(api_key).name}: {time.time() - t0 - began:.3f} s"
              f"{f' error_code={code}' if code else ''}", flush=True)
        return version, answer
    BrokerConnection.request = request  # type: ignore[method-assign]
    original_connect = BrokerConnection.__init__

    def connect(self: Any, *a: Any, **k: Any) -> None:
        began = time.time() - t0
        original_connect(self, *a, **k)
        print(f"{began:8.3f} group client connect (+ApiVersions): {time.time() - t0 - began:.3f} s", flush=True)
    BrokerConnection.__init__ = connect  # type: ignore[method-assign]

    class TracedConsumer(_Consumer):  # type: ignore[misc]
        seen = False

        def __init__(self, config: dict[str, Any]) -> None:
            began = time.time() - t0
            super().__init__(config)
            mark(f"Consumer({config.get('client.id')}) created in {time.time() - t0 - began:.3f} s")

        def incremental_assign(self, partitions: Any) -> None:
            if warm:  # what-if for room H: the consumer knows the topics' leaders before the assign
                began = time.time() - t0
                for topic in sorted({tp.topic for tp in partitions}):
                    self.list_topics(topic, timeout=10)
                print(f"{began:8.3f} (--warm-metadata) consumer list_topics: {time.time() - t0 - began:.3f} s",
                      flush=True)
            mark(f"incremental_assign {len(partitions)} partitions "
                 f"{sorted({tp.offset for tp in partitions})}")
            super().incremental_assign(partitions)

        def consume(self, num_messages: int = 1, timeout: float = -1) -> Any:
            messages = super().consume(num_messages=num_messages, timeout=timeout)
            if messages and not TracedConsumer.seen:
                TracedConsumer.seen = True
                mark(f"first non-empty consume ({len(messages)} records, timeout {timeout})")
            return messages

    class TracedProducer(_Producer):  # type: ignore[misc]
        produced = False

        def __init__(self, config: dict[str, Any]) -> None:
            super().__init__(config)
            mark(f"Producer created (linger.ms={config.get('linger.ms')})")

        last = 0.0

        def produce(self, *a: Any, **k: Any) -> None:
            if not TracedProducer.produced:
                TracedProducer.produced = True
                mark("first produce() call")
            TracedProducer.last = time.time()
            super().produce(*a, **k)

    idle_sends: list[tuple[float, float]] = []  # (began, took) of each send_lingering (idle thread, output waiting)
    from pystreams.runtime import streams_producer
    # the stream thread called send_lingering by its own name until 9e4c423; since then streams_producer's
    # send_lingering_while_idle calls it by the module's name (an older tree (--tree) has neither)
    owner = st if hasattr(st, "send_lingering") else streams_producer
    original_send = getattr(owner, "send_lingering", None)
    if original_send is not None:
        def send_lingering(*a: Any, **k: Any) -> None:
            began = time.time()
            try:
                original_send(*a, **k)
            finally:
                idle_sends.append((began - t0, time.time() - began))
        owner.send_lingering = send_lingering  # type: ignore[attr-defined]

    st.Consumer = TracedConsumer
    collector.Producer = TracedProducer
    topology = pystreams_app.topology(args.workload, args.input, args.output)
    mark("topology built")
    config = {"application.id": args.app_id, "bootstrap.servers": args.bootstrap, "state.dir": args.state_dir,
              "processing.guarantee": "at_least_once", "commit.interval.ms": args.commit_interval_ms,
              "num.stream.threads": 1}
    config.update(extra)
    streams = ks.KafkaStreams(topology, config)
    mark("KafkaStreams() constructed")
    streams.start()
    mark("KafkaStreams.start() returned")
    streams.wait_for_state(ks.State.RUNNING, timeout=30)
    mark("state RUNNING")
    time.sleep(float(os.environ.get("PYSTREAMS_TRACE_LINGER", "3")))
    print(f"{TracedProducer.last - t0:8.3f} last produce() call", flush=True)  # incl. changelogs, in stateful apps
    for began, took in idle_sends[:3] + (idle_sends[-1:] if len(idle_sends) > 3 else []):
        print(f"{began:8.3f} idle send of lingering output (send_lingering): {took:.3f} s", flush=True)
    if idle_sends:
        print(f"{idle_sends[-1][0]:8.3f} idle sends: {len(idle_sends)}, {sum(t for _, t in idle_sends) * 1000:.1f} ms "
              "in all", flush=True)
    streams.close(10)


# --------------------------------------------------------------------------------------------- parent side
def _first_output(bootstrap: str, topic: str, t0: float, out: dict[str, float], stop: threading.Event) -> None:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"trace-{uuid.uuid4().hex[:6]}",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 5})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    try:
        while not stop.is_set():
            for m in consumer.consume(1000, 0.01):
                if m.error() is None:
                    out.setdefault("first", time.time() - t0)
                    out["last"] = time.time() - t0
                    out["n"] = out.get("n", 0) + 1
    finally:
        consumer.close()


def _at(line: str) -> float:
    try:
        return float(line.split()[0])
    except ValueError:
        return 0.0


#: (phase, line that starts it, line that ends it): substrings of the child's and the harness' lines
PHASES = (
    ("interpreter start", None, "interpreter up"),
    ("imports (pystreams, runtime, confluent_kafka)", "interpreter up", "imports done"),
    ("topology build (+ DSL/compiler imports)", "imports done", "topology built"),
    ("KafkaStreams()", "topology built", "KafkaStreams() constructed"),
    ("start(): admin metadata, topics, thread", "KafkaStreams() constructed", "KafkaStreams.start() returned"),
    ("group join -> RUNNING", "KafkaStreams.start() returned", "state RUNNING"),
    ("RUNNING -> incremental_assign", "state RUNNING", "incremental_assign"),
    ("assign -> first records consumed", "incremental_assign", "first non-empty consume"),
    ("-> first produce() call", "first non-empty consume", "first produce() call"),
    ("first produce -> readable (linger.ms)", "first produce() call", "first output readable"),
    ("= process start -> first output", None, "first output readable"),
    ("first output -> last output", "first output readable", "last output read"),
    ("last produce() -> last output read (linger.ms)", "last produce() call", "last output read"),
    ("= process start -> last output", None, "last output read"),
)


#: the process' CPU time (all threads) at these marks: start-up work, less moved by the machine's load
CPU_MARKS = (("CPU at imports done", "imports done"), ("CPU at state RUNNING", "state RUNNING"),
             ("CPU at first produce() call", "first produce() call"))


def phases(lines: list[str]) -> dict[str, float]:
    """Seconds per phase of one run's lines (phases whose marks are missing are left out)."""
    def at(text: str | None) -> float | None:
        if text is None:
            return 0.0
        return next((_at(x) for x in lines if text in x), None)

    out = {}
    for name, begin, end in PHASES:
        a, b = at(begin), at(end)
        if a is not None and b is not None and not math.isnan(b):  # NaN: the harness saw no output
            out[name] = b - a
    for name, text in CPU_MARKS:
        line = next((x for x in lines if text in x and "[cpu " in x), None)
        if line is not None:
            out[name] = float(line.rsplit("[cpu ", 1)[1].split()[0])
    return out


def _summary(results: dict[str, list[dict[str, float]]]) -> None:
    import statistics

    trees = list(results)
    print("--- phases, ms (min / median over the runs" + (", per tree" if len(trees) > 1 else "") + ")")
    width = max(len(p[0]) for p in PHASES + CPU_MARKS)
    print(f"{'phase':{width}s} " + " ".join(f"{t[-28:]:>28s}" for t in trees))
    for name in [p[0] for p in PHASES] + [c[0] for c in CPU_MARKS]:
        cells = []
        for tree in trees:
            values = sorted(r[name] * 1000 for r in results[tree] if name in r)
            cells.append(f"{values[0]:6.0f} / {statistics.median(values):6.0f}" if values else "-")
        print(f"{name:{width}s} " + " ".join(f"{c:>28s}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "--child":
        _child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.streams.startup_trace")
    parser.add_argument("--broker", default="pystreams", help="pystreams (embedded) or a bootstrap address")
    parser.add_argument("--workload", default="stateless", choices=("stateless", "count", "window"))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--config", action="append", default=[], help="extra streams config key=value")
    parser.add_argument("--warm-metadata", action="store_true",
                        help="what-if: the main consumer reads its topics' metadata before incremental_assign")
    parser.add_argument("--tree", action="append", default=[],
                        help="A/B: run the app from this copy of the checkout (a directory holding pystreams/, with "
                             "pystreams/broker linked to broker/) "
                             "instead; several --tree run interleaved, each --repeat times")
    parser.add_argument("--importtime", default="",
                        help="run the app with -X importtime; its report goes to FILE.<run>")
    args = parser.parse_args(argv)
    from bench.streams.harness import create_topics, preload
    from bench.streams.workloads import generate

    with ExitStack() as stack:
        if args.broker == "pystreams":
            from pystreams.broker import EmbeddedBroker

            bootstrap = str(stack.enter_context(EmbeddedBroker()).bootstrap_servers)
        else:
            bootstrap = args.broker
        from bench.streams.systems.specs import PYTHON_ENV, ROOT, prepare

        prepare("pystreams")  # bytecode cached before the clock runs, as in the benchmark
        trees = [os.path.abspath(t) for t in args.tree] or [str(ROOT)]
        for tree in trees:
            if tree != str(ROOT):  # the same bytecode cache treatment for a copy
                code = f"import compileall; compileall.compile_dir({os.path.join(tree, 'pystreams')!r}, quiet=2)"
                subprocess.run([sys.executable, "-c", code], check=False,
                               env={**os.environ, **PYTHON_ENV})
        records = generate(args.records, 1000, end_ms=int(time.time() * 1000) - 60_000)
        env = {**os.environ, **PYTHON_ENV, "PYSTREAMS_TRACE_WARM": "1" if args.warm_metadata else "0"}
        results: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
        run = 0
        for i in range(args.repeat):
            for tree in trees:
                run += 1
                tag = uuid.uuid4().hex[:6]
                source, sink = f"trace-in-{tag}", f"trace-out-{tag}"
                create_topics(bootstrap, source, sink)
                preload(bootstrap, source, records)
                state = tempfile.mkdtemp(prefix="trace-state-")
                out: dict[str, float] = {}
                stop = threading.Event()
                child_env = dict(env, **{T0_ENV: "0"})
                if tree != str(ROOT):  # the copy first, the checkout for bench/ and the broker
                    child_env["PYTHONPATH"] = os.pathsep.join((tree, str(ROOT)))
                stderr = open(f"{args.importtime}.{run}", "w") if args.importtime else None  # noqa: SIM115
                python = [sys.executable, "-X", "importtime"] if args.importtime else [sys.executable]
                t0 = time.time()
                child_env[T0_ENV] = repr(t0)
                watcher = threading.Thread(target=_first_output, args=(bootstrap, sink, t0, out, stop), daemon=True)
                watcher.start()
                proc = subprocess.Popen([*python, "-m", "bench.streams.startup_trace", "--child",
                                         "--bootstrap", bootstrap, "--workload", args.workload, "--input", source,
                                         "--output", sink, "--app-id", f"trace-{tag}", "--state-dir", state,
                                         "--", *args.config],
                                        env=child_env, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=tree)
                lines = proc.communicate(timeout=120)[0].splitlines()
                stop.set()
                watcher.join(5)
                if stderr is not None:
                    stderr.close()
                lines.append(f"{out.get('first', float('nan')):8.3f} first output readable (harness consumer)")
                lines.append(f"{out.get('last', float('nan')):8.3f} last output read ({int(out.get('n', 0))} records)")
                print(f"--- run {run} ({args.workload}, {args.records} records, {args.broker}, {tree}) "
                      f"rc={proc.returncode} load {os.getloadavg()[0]:.2f}")
                for line in sorted((x for x in lines if x.strip()), key=_at):
                    print(line)
                results[tree].append(phases(lines))
        _summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
