"""The Jepsen-style run: transactional copiers of N integers (one per input partition, child
processes) under faults, a read_committed reader during the faults, a final reader, and one
Produce held by the proxy until after its transaction ended. Returns everything the test
asserts on; every process started here is killed and reaped before it returns or raises.

The input is written during the run at a steady rate over the fault window (plus 5 s), so
the copiers are copying when the faults hit. Faults (seeded, times within the fault window): each copier SIGKILLed `kills` times and
restarted at once with the same transactional.id; the broker SIGKILLed once and restarted; the
first Produce of copier 0's first transaction held until that transaction's EndTxn (its abort:
the message times out first) was answered, then delivered; that happens first, before the
kills, so no fault cuts the held request's connection."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.system.jepsen.brokers import KillableBroker
from tests.system.jepsen.history import History, Op, load
from tests.system.jepsen.proxy import END_TXN, PRODUCE, Hold

ROOT = Path(__file__).resolve().parents[3]
#: Copiers get SIGKILL if the test process dies (Linux PR_SET_PDEATHSIG via util-linux setpriv),
#: so an interrupted run leaks no copier looping against a dead broker.
DIE_WITH_PARENT = [shutil.which("setpriv") or "", "--pdeathsig", "KILL"] \
    if shutil.which("setpriv") else []
#: Where in a transaction a copier is killed (chosen at random per kill).
KILL_STAGES = ("txn-begin", "send", "send-offsets", "txn-commit")


@dataclass
class Settings:
    """Size and faults of one run (env: PYSTREAMS_JEPSEN_RECORDS, PYSTREAMS_JEPSEN_SEED)."""

    records: int = 20000
    copiers: int = 3
    kills: int = 3
    fault_window: float = 20.0
    timeout_ms: int = 4000
    batch: int = 50
    deadline: float = 150.0
    seed: str = "6"
    live_isolation: str = "read_committed"  # read_uncommitted: the checker's negative control
    #: transactions (numbered per copier incarnation from 1) each copier aborts on purpose once
    #: all their records were delivered (appended): the negative control's certain G1a source
    abort_txns: tuple[int, ...] = ()


@dataclass
class Outcome:
    """What happened: the merged history, the readers' names, the held Produce, timings."""

    ops: list[Op]
    output: str
    live_reader: str
    final_reader: str
    hold: Hold
    copier_kills: dict[int, int]
    mid_transaction_kills: int
    open_at_broker_kill: int
    broker_kills: int
    broker_restart_seconds: float
    crashes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def values_read_by(self, process: str) -> list[int]:
        return [v for op in self.ops if op["process"] == process and op["f"] == "poll"
                and op["type"] == "ok" for v in op["values"]]

    def deliberately_aborted_sends(self) -> list[tuple[str, int, tuple[str, int, int]]]:
        """(txn, value, (topic, partition, offset)) of every record the broker acknowledged
        (appended) in a transaction its copier then aborted on purpose (Settings.abort_txns)
        and whose abort the broker confirmed."""
        aborted = {op["txn"] for op in self.ops if op["f"] == "txn-abort"
                   and op["type"] == "ok" and op.get("deliberate")}
        return [(op["txn"], value, (topic, int(partition), int(offset)))
                for op in self.ops if op["f"] == "send" and op["type"] == "ok"
                and op.get("txn") in aborted
                for value, (topic, partition, offset) in zip(op["values"], op["offsets"])]


class Reader(threading.Thread):
    """A read_committed consumer of the output that logs every poll; `read_to_end()` then
    reads until its position reaches the high watermark of every partition (with no open
    transaction left, the LSO) and logs the end op the checker's lost-write check needs."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, name: str,
                 history: History, isolation: str = "read_committed") -> None:
        super().__init__(daemon=True, name=name)
        self.topic, self.partitions, self.history = topic, partitions, history
        self.tps = [TopicPartition(topic, p) for p in range(partitions)]
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": name,
                                  "isolation.level": isolation,
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 100})
        self.consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        self.stop = threading.Event()
        self.end_since: float | None = None
        self.reached_end = threading.Event()
        self.seen: set[int] = set()
        self.target = 1 << 62
        self.all_seen_at: float | None = None
        self.failure: str | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.poll_once()
                if self.end_since is not None and self._at_end():
                    self.history.log(self.name, "ok", "poll", end=True, since=self.end_since)
                    self.reached_end.set()
                    return
        except Exception as exc:  # reported by the test, never swallowed
            self.failure = repr(exc)
        finally:
            self.consumer.close()

    def poll_once(self) -> None:
        self.history.log(self.name, "invoke", "poll")
        msgs = [m for m in self.consumer.consume(1000, 0.2) if not m.error()]
        values = [int(m.value() or b"") for m in msgs]  # b"": a record without value fails
        self.history.log(self.name, "ok", "poll", values,
                         [[m.topic(), m.partition(), m.offset()] for m in msgs],
                         txns=[(m.key() or b"").decode() or None for m in msgs])
        self.seen.update(values)
        if self.all_seen_at is None and len(self.seen) >= self.target:
            self.all_seen_at = time.monotonic()

    def _at_end(self) -> bool:
        positions = self.consumer.position(self.tps)
        for tp in positions:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic,
                                                                         tp.partition),
                                                          timeout=10, cached=False)
            if tp.offset < high:
                return False
        return True

    def read_to_end(self, timeout: float) -> bool:
        """Ask for the end pass (writers have stopped); wait for it."""
        self.end_since = time.time()
        return self.reached_end.wait(timeout)


def _create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, partitions, 1) for n in names],
                                  operation_timeout=30)
    for future in futures.values():
        future.result(timeout=60)


class Feeder(threading.Thread):
    """Writes the input integers 0..records-1 round-robin over the partitions at a steady rate
    over `duration` seconds (idempotent producer), so the copiers are busy during the faults."""

    def __init__(self, bootstrap: str, topic: str, records: int, partitions: int,
                 duration: float) -> None:
        super().__init__(daemon=True, name="feeder")
        self.topic, self.records, self.partitions = topic, records, partitions
        self.duration = duration
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                                  "enable.idempotence": True})
        self.stop = threading.Event()
        self.unflushed: int | None = None
        self.failure: str | None = None

    def run(self) -> None:
        try:
            began = time.monotonic()
            for n in range(self.records):
                if self.stop.is_set():
                    return
                self.producer.produce(self.topic, value=str(n).encode(),
                                      partition=n % self.partitions)
                if n % 100 == 99:
                    self.producer.poll(0)
                    ahead = began + self.duration * (n + 1) / self.records - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
            self.unflushed = self.producer.flush(120)
        except Exception as exc:  # reported by the test
            self.failure = repr(exc)


class Copiers:
    """The copier child processes: start, SIGKILL + restart, SIGTERM, always reaped."""

    def __init__(self, broker: KillableBroker, tmp: Path, topics: tuple[str, str],
                 settings: Settings) -> None:
        self.broker, self.tmp, self.topics, self.settings = broker, tmp, topics, settings
        self.group = f"jepsen-group-{uuid.uuid4().hex[:8]}"
        self.tids = [f"jepsen-tx-{uuid.uuid4().hex[:8]}-{i}" for i in range(settings.copiers)]
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.incarnation = [0] * settings.copiers
        self.histories: list[Path] = []
        self.histories_of: dict[int, list[Path]] = {}
        self.mid_transaction_kills = 0
        self.kills = {i: 0 for i in range(settings.copiers)}
        self.crashes: list[str] = []

    def start(self, i: int) -> None:
        self.incarnation[i] += 1
        name = f"copier-{i}-{self.incarnation[i]}"
        history = self.tmp / f"{name}.jsonl"
        self.histories.append(history)
        self.histories_of.setdefault(i, []).append(history)
        log = open(self.tmp / f"{name}.stderr", "wb")
        argv = [*DIE_WITH_PARENT, sys.executable, "-m", "tests.system.jepsen.copier",
                self.broker.bootstrap_servers,
                *self.topics, self.group, self.tids[i], str(i), name, str(history),
                "--timeout-ms", str(self.settings.timeout_ms),
                "--batch", str(self.settings.batch),
                "--abort-txns", ",".join(map(str, self.settings.abort_txns))]
        self.procs[i] = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log)
        log.close()

    @staticmethod
    def last_op(path: Path) -> Op | None:
        """The last complete op of a copier's history file (None before its first)."""
        try:
            with open(path, "rb") as f:
                f.seek(max(0, path.stat().st_size - 4096))
                lines = f.read().splitlines()
        except OSError:
            return None
        for line in reversed(lines):
            try:
                return dict(json.loads(line))
            except ValueError:
                continue
        return None

    @staticmethod
    def in_transaction(op: Op | None) -> bool:
        """Whether an op is inside a transaction (begun, not yet committed or aborted)."""
        return op is not None and op["f"] not in ("poll", "txn-abort") and not (
            op["f"] == "txn-commit" and op["type"] == "ok")

    @staticmethod
    def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.002)
        return False

    def kill_and_restart(self, i: int, stage: str, wait: float = 3.0) -> None:
        """SIGKILL copier i as soon as its history shows it at `stage` (txn-begin, send,
        send-offsets or txn-commit; waiting up to `wait` s for that), reap it, start it again."""
        proc, path = self.procs[i], self.histories_of[i][-1]
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and proc.poll() is None:
            op = self.last_op(path)
            if op is not None and op["f"] == stage:
                break
            time.sleep(0.002)
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        self.kills[i] += 1
        self.mid_transaction_kills += self.in_transaction(self.last_op(path))
        self.start(i)

    def restart_crashed(self) -> None:
        """A copier that exited by itself (a fatal client error) is noted and started again."""
        for i, proc in self.procs.items():
            if proc.poll() is not None:
                name = f"copier-{i}-{self.incarnation[i]}"
                err = (self.tmp / f"{name}.stderr").read_text(errors="replace")[-500:]
                self.crashes.append(f"{name} exited {proc.returncode}: {err}")
                self.start(i)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (finish the current transaction), then SIGKILL; always reaped."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)


def run(broker: KillableBroker, tmp: Path, settings: Settings) -> Outcome:
    """Run the workload against `broker` (behind its proxy); see the module docstring."""
    began = time.monotonic()
    seconds: dict[str, float] = {}
    rng = random.Random(settings.seed)
    bs, n = broker.bootstrap_servers, settings.copiers
    source, sink = (f"jepsen-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("in", "out"))
    _create_topics(bs, [source, sink], n)
    seconds["setup"] = time.monotonic() - began
    feeder = Feeder(bs, source, settings.records, n, settings.fault_window + 5.0)

    history = History(tmp / "readers.jsonl")
    copiers = Copiers(broker, tmp, (source, sink), settings)
    tid0 = copiers.tids[0]
    hold = broker.proxy.hold(
        lambda r: r.api_key == PRODUCE and r.transactional_id == tid0,
        release_after=lambda r, error: r.api_key == END_TXN and r.transactional_id == tid0)
    events: list[tuple[float, str, int]] = [(rng.uniform(2.0, settings.fault_window), "copier",
                                             i) for i in range(n) for _ in range(settings.kills)]
    events.append((rng.uniform(settings.fault_window / 3, settings.fault_window * 2 / 3),
                   "broker", 0))
    events.sort()
    live = Reader(bs, sink, n, "live-reader", history, settings.live_isolation)
    final: Reader | None = None
    broker_kills, restart_seconds, open_txns = 0, 0.0, 0
    try:
        live.target = settings.records
        live.start()
        feeder.start()
        for i in range(n):
            copiers.start(i)
        # the held Produce first, undisturbed: its copier times the message out, aborts, and
        # the proxy delivers it once the abort's EndTxn was answered (before the copier knows)
        if not hold.done.wait(60):
            raise AssertionError(f"copier 0's Produce was not held and released: {hold}")
        seconds["hold"] = time.monotonic() - began - seconds["setup"]
        t0 = time.monotonic()
        for at, what, i in events:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            if what == "copier":
                copiers.kill_and_restart(i, rng.choice(KILL_STAGES))
            else:  # aimed at a moment when some copier is inside a transaction
                copiers.wait_until(lambda: any(
                    copiers.in_transaction(copiers.last_op(paths[-1]))
                    and copiers.last_op(paths[-1])["f"] != "txn-begin"  # type: ignore[index]
                    for paths in copiers.histories_of.values()), 3.0)
                open_txns = sum(copiers.in_transaction(copiers.last_op(paths[-1]))
                                for paths in copiers.histories_of.values())
                broker.kill()
                broker_kills += 1
                restart_seconds = broker.restart()
            copiers.restart_crashed()
        seconds["faults"] = time.monotonic() - t0
        feeder.join(settings.deadline)
        if feeder.is_alive() or feeder.unflushed != 0:
            raise AssertionError(f"the input was not fully written: {feeder.failure}, "
                                 f"{feeder.unflushed} unflushed")
        seconds["input_written"] = time.monotonic() - t0
        deadline = time.monotonic() + settings.deadline
        while len(live.seen) < settings.records and time.monotonic() < deadline:
            copiers.restart_crashed()
            assert live.is_alive(), f"the live reader died: {live.failure}"
            time.sleep(0.2)
        if live.all_seen_at is not None:
            seconds["all_copied_after_faults_began"] = live.all_seen_at - t0
        copiers.stop()
        if not live.read_to_end(60):
            raise AssertionError(f"the live reader did not reach the end: {live.failure}")
        final = Reader(bs, sink, n, "final-reader", history)
        final.end_since = time.time()
        final.start()
        if not final.reached_end.wait(60):
            raise AssertionError(f"the final reader did not reach the end: {final.failure}")
    finally:
        feeder.stop.set()
        feeder.join(30)
        copiers.stop(timeout=10)
        for reader in (live, final):
            if reader is not None:
                reader.stop.set()
                reader.join(30)
        history.close()
    seconds["total"] = time.monotonic() - began
    ops = load([tmp / "readers.jsonl", *copiers.histories])
    return Outcome(ops, sink, live.name, "final-reader", hold, copiers.kills,
                   copiers.mid_transaction_kills, open_txns, broker_kills,
                   restart_seconds, copiers.crashes, seconds)


def settings_from_env(**overrides: Any) -> Settings:
    """Settings with PYSTREAMS_JEPSEN_RECORDS / _SEED / _WINDOW from the environment."""
    env = os.environ
    return Settings(records=int(env.get("PYSTREAMS_JEPSEN_RECORDS", "20000")),
                    seed=env.get("PYSTREAMS_JEPSEN_SEED", "6"),
                    fault_window=float(env.get("PYSTREAMS_JEPSEN_WINDOW", "20")), **overrides)
