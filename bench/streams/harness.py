"""Running one system on one workload: topics, preload, the output watcher, the process, the clock.

Throughput: the input topic is preloaded, then the system's process starts (t0); it is done when
its output topic holds everything the workload must produce (the record count, or the latest
count of every key); records/s = input records / (done - t0), start-up included, as a user sees it.
Latency: then the harness produces paced records stamped with the wall clock (CreateTime) and
reads the outputs they cause; each system propagates the input's timestamp to its output (Kafka
Streams' rule), so latency = time the output is read here - its record timestamp.
"""
from __future__ import annotations

import os
import signal
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench.streams.systems.common import NOT_AVAILABLE
from bench.streams.workloads import Expected, InputRecord, decode_count, generate

PARTITIONS = 3


@dataclass
class RunResult:
    """One (system, workload, broker) measurement; `error` says why a number is missing."""

    system: str
    workload: str
    broker: str
    records: int = 0
    seconds: float | None = None       # start of the process -> all outputs present
    first_output: float | None = None  # start of the process -> first output read
    p50_ms: float | None = None
    p99_ms: float | None = None
    latency_samples: int = 0
    outputs_read: int = 0
    error: str = ""
    partial: bool = False              # timed out: records = inputs reflected in the outputs so far
    cpu_seconds: float | None = None   # the system's process CPU time (all threads) at done, start-up included
    log: str = ""

    @property
    def rate(self) -> float | None:
        return self.records / self.seconds if self.seconds else None

    @property
    def processing_rate(self) -> float | None:
        if not self.seconds or self.first_output is None or self.seconds <= self.first_output:
            return None
        return self.records / (self.seconds - self.first_output)


def create_topics(bootstrap: str, *topics: str, partitions: int = PARTITIONS) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(t, partitions, 1) for t in topics]).values():
        future.result(30)


def preload(bootstrap: str, topic: str, records: list[InputRecord]) -> float:
    """Produce records (their own timestamps) and wait for every ack; returns seconds taken.

    Each partition gets its records in the order given (event time): the producer is idempotent, so a retried
    request (e.g. a partition's first batch right after the topic was created, on a busy broker) cannot land behind
    later batches. Without that, a windowed count with no grace dropped the retried records as late and the run
    timed out waiting for their counts (session 6, tests/unit/state/test_window_late_input.py)."""
    began = time.monotonic()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10_000,
                         "queue.buffering.max.messages": 2_000_000, "partitioner": "murmur2_random",
                         "enable.idempotence": True})
    for r in records:
        while True:
            try:
                producer.produce(topic, r.value, r.key, timestamp=r.timestamp)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120) != 0:
        raise RuntimeError(f"preload of {topic}: not every record was acknowledged")
    return time.monotonic() - began


def warm_up_broker(bootstrap: str) -> float:
    """One throwaway round trip before anything is measured: a topic created, records produced (also by an
    idempotent producer), then read and committed by a consumer group. A freshly started Apache Kafka answers its
    first group (creating __consumer_offsets) and its first idempotent producer (a producer-id block from the
    controller) slowly, ~0.5-1 s; without this the first system measured on it (pystreams, first in every run)
    paid for that. Returns seconds taken."""
    began = time.monotonic()
    topic = f"bench-warmup-{uuid.uuid4().hex[:8]}"
    create_topics(bootstrap, topic)
    preload(bootstrap, topic, generate(1000, 10, int(time.time() * 1000)))
    # an idempotent producer too: Apache Kafka's first InitProducerId waits for a block of producer ids from the
    # controller (~0.6 s measured on the first pystreams run after a fresh start)
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    producer.produce(topic, b"warm-up")
    if producer.flush(30) != 0:
        raise RuntimeError(f"warm-up of {bootstrap}: the idempotent producer's record was not acknowledged")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-warmup-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.subscribe([topic])
        seen, deadline = 0, time.monotonic() + 60
        while seen < 1001 and time.monotonic() < deadline:
            seen += sum(1 for m in consumer.consume(1001, 0.5) if m.error() is None)
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return time.monotonic() - began


class OutputWatcher(threading.Thread):
    """Reads the output topic from the beginning (assigned, no group) and tracks the workload's state."""

    def __init__(self, bootstrap: str, topic: str, expected: Expected) -> None:
        super().__init__(name=f"watch-{topic}", daemon=True)
        self.topic = topic
        self.expected = expected
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-watch-{uuid.uuid4().hex[:8]}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10,
                                  "fetch.queue.backoff.ms": 1})
        self.consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        self.outputs = 0
        self.latest: dict[str, int] = {}
        self.mismatched = len(expected.latest)
        self.first_output: float | None = None
        self.latency_from_ms: int | None = None  # outputs stamped at or after this are latency samples
        self.latencies: list[float] = []
        self.done_at: float | None = None
        self.running = True
        self.error: str = ""
        self._changed = threading.Condition()

    def _complete(self) -> bool:
        if self.expected.workload == "stateless":
            return self.outputs >= self.expected.outputs
        return self.mismatched == 0

    def run(self) -> None:
        stateless = self.expected.workload == "stateless"
        target = self.expected.latest
        try:
            while self.running:
                batch = self.consumer.consume(5000, 0.05)
                now = time.monotonic()
                wall_ms = time.time() * 1000
                if not batch:
                    continue
                with self._changed:
                    if self.first_output is None:
                        self.first_output = now
                    for m in batch:
                        if m.error() is not None:
                            if m.error().code() != KafkaError._PARTITION_EOF:
                                self.error = str(m.error())
                            continue
                        self.outputs += 1
                        if self.latency_from_ms is not None:
                            ts = m.timestamp()[1]
                            if ts >= self.latency_from_ms:
                                self.latencies.append(wall_ms - ts)
                        if stateless:
                            continue
                        key = m.key().decode()
                        value = decode_count(m.value())
                        old = self.latest.get(key)
                        self.latest[key] = value
                        want = target.get(key)
                        if want is not None and old != value:
                            self.mismatched += (old == want) - (value == want)
                    if self.done_at is None and self._complete():
                        self.done_at = now
                        self._changed.notify_all()
        except Exception as e:  # noqa: BLE001 - reported in the result, never a hang
            self.error = f"watcher failed: {e!r}"
        finally:
            self.consumer.close()

    def wait_done(self, deadline: float, alive: "subprocess.Popen[bytes]") -> bool:
        with self._changed:
            while self.done_at is None:
                if time.monotonic() >= deadline or alive.poll() is not None or self.error:
                    return self.done_at is not None
                self._changed.wait(0.2)
        return True

    def processed(self) -> int:
        """Input records whose results are in the output so far (count/window: the sum of the
        latest counts; stateless: outputs scaled by the pass rate of the filter)."""
        with self._changed:
            if self.expected.workload == "stateless":
                total = self.expected.total or 1
                return int(self.outputs * total / max(1, self.expected.outputs))
            return sum(self.latest.values())

    def progress(self) -> str:
        if self.expected.workload == "stateless":
            return f"{self.outputs}/{self.expected.outputs} outputs"
        return f"{len(self.expected.latest) - self.mismatched}/{len(self.expected.latest)} keys final"

    def mismatch(self) -> str:
        """Which results are not (yet) what the workload must produce, and how: see describe_mismatch."""
        if self.expected.workload == "stateless":
            return ""
        with self._changed:
            latest = dict(self.latest)
        return describe_mismatch(self.expected.latest, latest)

    def stop(self) -> None:
        self.running = False
        self.join(10)


def describe_mismatch(expected: "dict[str, int]", latest: "dict[str, int]", examples: int = 4) -> str:
    """One line on the keys whose latest output is not the expected final count: how many are missing (no output),
    low or high, grouped by window start (a window key is `word@start`; in seconds before the last window start),
    and a few examples. A timed-out run says with it whether results were lost, late or counted twice."""
    wrong = [(key, want, latest.get(key)) for key, want in expected.items() if latest.get(key) != want]
    if not wrong:
        return "no wrong results"
    missing = sum(1 for _k, _w, got in wrong if got is None)
    low = sum(1 for _k, want, got in wrong if got is not None and got < want)
    high = len(wrong) - missing - low
    text = f"{len(wrong)} wrong: {missing} missing, {low} low, {high} high"
    starts = [int(key.rsplit("@", 1)[1]) for key in expected if "@" in key]
    if starts:
        last = max(starts)
        by_start: dict[int, list[int]] = {}
        for key, want, got in wrong:
            if "@" in key:
                counts = by_start.setdefault((int(key.rsplit("@", 1)[1]) - last) // 1000, [0, 0, 0])
                counts[0 if got is None else 1 if got < want else 2] += 1
        text += "; by window start (s from the last; missing/low/high): " + ", ".join(
            f"{rel}: {m}/{lo}/{hi}" for rel, (m, lo, hi) in sorted(by_start.items())[:8])
        if len(by_start) > 8:
            text += f", ... ({len(by_start)} starts)"
    text += "; e.g. " + ", ".join(f"{key} want {want} got {got}" for key, want, got in wrong[:examples])
    return text


def paced_produce(bootstrap: str, topic: str, records: list[InputRecord], rate: float) -> None:
    """Produce records at `rate` per second, stamped with the wall clock at produce (CreateTime)."""
    # in order across retries, as preload(), but by one request in flight rather than idempotence: an idempotent
    # producer holds its first records until InitProducerId is answered, which put ~0.5 s on the first latency
    # records of every system (p99 ~500 ms for all of them at aa7bd39); at this rate one request in flight is enough
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "partitioner": "murmur2_random",
                         "max.in.flight.requests.per.connection": 1})
    began = time.monotonic()
    for i, r in enumerate(records):
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        producer.produce(topic, r.value, r.key)
        producer.poll(0)
    producer.flush(30)


@dataclass
class SystemSpec:
    """How to start one system's process for a workload (argv built by the system's module)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def process_cpu_seconds(pid: int) -> float | None:
    """user + system CPU time of a running process (every thread), from /proc; None where there is none.

    A figure that moves much less with the machine's load than records/s: what the system spent, not when."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].removeprefix("NOT AVAILABLE: ") if lines else ""


def _die_with_parent(argv: list[str]) -> list[str]:
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", *argv] if setpriv else argv


def stop_process(process: "subprocess.Popen[bytes]", grace: float = 20.0) -> None:
    """SIGTERM the process group (a clean close), SIGKILL it after `grace` seconds."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:  # children (a JVM's helpers, librdkafka never forks, but be thorough) go with the group
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


def run_one(spec_for: "SpecFactory", system: str, workload: str, broker_name: str, bootstrap: str,
            records: int, keys: int, run_dir: Path, timeout: float, latency_records: int,
            latency_rate: float, commit_interval_ms: int) -> RunResult:
    """Preload, start the system, wait for its outputs, measure latency, stop it; never raises."""
    result = RunResult(system, workload, broker_name, records)
    tag = f"{system}-{workload}-{uuid.uuid4().hex[:6]}"
    source, sink = f"bench-in-{tag}", f"bench-out-{tag}"
    work = run_dir / tag
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "process.log"
    result.log = str(log_path)
    end_ms = int(time.time() * 1000) - 60_000
    data = generate(records, keys, end_ms)
    expected = Expected(workload)
    expected.add(data)
    process = None
    watcher = None
    try:
        create_topics(bootstrap, source, sink)
        preload(bootstrap, source, data)
        watcher = OutputWatcher(bootstrap, sink, expected)
        watcher.start()
        spec = spec_for(system, workload=workload, bootstrap=bootstrap, source=source, sink=sink,
                        app_id=f"bench-{tag}", state_dir=str(work / "state"),
                        commit_interval_ms=commit_interval_ms)
        env = {**os.environ, **spec.env}
        t0 = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(_die_with_parent(spec.argv), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        if not watcher.wait_done(t0 + timeout, process):
            if process.poll() == NOT_AVAILABLE:
                result.error = "not available: " + _last_line(log_path)
                return result
            if process.poll() is None and not watcher.error:  # a timeout: the rate so far
                result.partial = True
                result.records = min(records, watcher.processed())
                result.seconds = time.monotonic() - t0
                if watcher.first_output is not None:
                    result.first_output = watcher.first_output - t0
                result.error = f"timeout after {timeout:.0f} s ({watcher.progress()}; {watcher.mismatch()})"
                return result
            why = f"exited with {process.returncode}" if process.poll() is not None else watcher.error
            wrong = watcher.mismatch()
            result.error = f"{why} ({watcher.progress()}{'; ' + wrong if wrong else ''})"
            return result
        assert watcher.done_at is not None
        result.cpu_seconds = process_cpu_seconds(process.pid)
        result.seconds = watcher.done_at - t0
        result.first_output = watcher.first_output - t0 if watcher.first_output is not None else None
        if latency_records > 0:
            more = generate(latency_records, keys, end_ms, seed=11, first_id=records)
            watcher.latency_from_ms = int(time.time() * 1000) - 1
            paced_produce(bootstrap, source, more, latency_rate)
            # wait until no new output arrives for two commit intervals (a bounded time)
            deadline = time.monotonic() + min(30.0, timeout)
            seen = -1
            while time.monotonic() < deadline and process.poll() is None:
                time.sleep(max(0.5, 2 * commit_interval_ms / 1000))
                if len(watcher.latencies) == seen:
                    break
                seen = len(watcher.latencies)
            samples = sorted(watcher.latencies)
            result.latency_samples = len(samples)
            if samples:
                result.p50_ms = samples[len(samples) // 2]
                result.p99_ms = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        result.outputs_read = watcher.outputs
    except Exception as e:  # noqa: BLE001 - one failed system must not stop the others
        result.error = f"{type(e).__name__}: {e}"
    finally:
        if process is not None:
            stop_process(process)
        if watcher is not None:
            watcher.stop()
        shutil.rmtree(work / "state", ignore_errors=True)
    return result


class SpecFactory:
    """Callable protocol: (system, workload=, bootstrap=, source=, sink=, app_id=, state_dir=,
    commit_interval_ms=) -> SystemSpec."""

    def __call__(self, system: str, **kwargs: object) -> SystemSpec:  # pragma: no cover - protocol
        raise NotImplementedError
