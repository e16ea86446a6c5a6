"""Jepsen-style run on our broker: a transactional copier of 20,000 integers is SIGKILLed 3
times, the broker is SIGKILLed once, and a proxy holds one Produce until after its transaction
ended, while a read_committed consumer reads the output throughout. Every client operation goes
to a history (history.py) and the checker must find: output set == input set, 0 duplicates
(also for the concurrent reader), no aborted read, no inconsistent offset, no poll skip, no
non-monotonic poll or send; and the late produce is rejected.

Size: PYSTREAMS_JEPSEN_RECORDS (default 20,000). The shared reference Kafka of the session is
not SIGKILLed: against it the same run and checks go without the broker kill."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from tests.integration.eos._eos import create_topic, read_all, unique
from tests.system.eos.delaying_proxy import DelayingProxy
from tests.system.eos.history import HistoryLog, check, read_history

pytestmark = pytest.mark.system

RECORDS = int(os.environ.get("PYSTREAMS_JEPSEN_RECORDS", "20000"))
PARTITIONS = 3
ROOT = Path(__file__).resolve().parents[3]


class Reader(threading.Thread):
    """A read_committed consumer polling the output for the whole run, logging every record."""

    def __init__(self, bs: str, topic: str, history: HistoryLog) -> None:
        super().__init__(daemon=True)
        self.bs, self.topic, self.history = bs, topic, history
        self.stop = threading.Event()
        self.inputs: set[int] = set()
        self.errors: list[str] = []

    def run(self) -> None:
        c = Consumer({"bootstrap.servers": self.bs, "group.id": unique("jepsen-reader"),
                      "isolation.level": "read_committed", "enable.auto.commit": False})
        c.assign([TopicPartition(self.topic, p, 0) for p in range(PARTITIONS)])
        try:
            while not self.stop.is_set():
                for m in c.consume(1000, 0.3):
                    if m.error():
                        if m.error().code() != KafkaError._PARTITION_EOF:
                            self.errors.append(str(m.error()))  # transport errors are logged
                        continue
                    value = m.value().decode()
                    self.history.log("ok", "poll", partition=m.partition(), offset=m.offset(),
                                     value=value, session=0)
                    self.inputs.add(int(value.split(":", 1)[0]))
        finally:
            c.close()


def _copier(args: list[str], history: Path) -> subprocess.Popen:
    env = {**os.environ, "COPIER_HISTORY": str(history), "COPIER_TIMEOUT_MS": "3000"}
    proc = subprocess.Popen([sys.executable, "-m", "tests.system.eos.copier", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready", proc.stderr.read().decode()
    return proc


def test_copier_under_faults_checked_by_history(pystreams_broker_factory, tmp_path):
    broker = pystreams_broker_factory(
        **{"transaction.abort.timed.out.transaction.cleanup.interval.ms": "500"})

    def kill_broker() -> None:
        broker.kill()
        broker.start()
    _run(broker.bootstrap_servers, tmp_path, kill_broker)


@pytest.mark.reference
def test_same_history_checks_hold_on_reference_kafka(reference_kafka, tmp_path):
    """The same run and checks against Apache Kafka 4.1.1, without the broker kill."""
    _run(reference_kafka.bootstrap_servers, tmp_path, None)


def _run(bs: str, tmp_path: Path, kill_broker) -> None:
    source, sink = unique("jepsen-in"), unique("jepsen-out")
    create_topic(bs, source, PARTITIONS)
    create_topic(bs, sink, PARTITIONS)
    p = Producer({"bootstrap.servers": bs, "linger.ms": 20})
    for n in range(RECORDS):
        p.produce(source, value=str(n).encode(), partition=n % PARTITIONS)
        if n % 5000 == 0:
            p.poll(0)
    assert p.flush(60) == 0

    rng = random.Random(os.environ.get("PYSTREAMS_EOS_SEED", "7"))
    reader_log = HistoryLog(tmp_path / "reader.jsonl", "reader")
    reader = Reader(bs, sink, reader_log)
    reader.start()
    histories: list[Path] = []
    procs: list[subprocess.Popen] = []
    with DelayingProxy(bs) as proxy:
        args = [proxy.bootstrap_servers, source, sink, unique("jepsen-group"),
                unique("jepsen-tx"), str(PARTITIONS)]

        def start() -> subprocess.Popen:
            histories.append(tmp_path / f"copier-{len(histories)}.jsonl")
            procs.append(_copier(args, histories[-1]))
            return procs[-1]
        try:
            proxy.arm()  # the first transactional Produce is held back...
            first = start()
            assert proxy.held.wait(30), "no Produce reached the proxy"
            time.sleep(8)  # ...until the copier timed it out and aborted its transaction
            late = proxy.release()
            errors = [pr["error_code"] for t in late["responses"]
                      for pr in t["partition_responses"]]
            assert errors and all(errors), f"the late produce was appended: {late}"
            time.sleep(rng.uniform(0.2, 1.5))
            first.kill()                                   # copier kill 1
            first.wait()
            second = start()
            time.sleep(rng.uniform(0.5, 1.5))
            if kill_broker is not None:
                kill_broker()                              # the broker kill
            time.sleep(rng.uniform(0.5, 2.0))
            second.kill()                                  # copier kill 2
            second.wait()
            third = start()
            time.sleep(rng.uniform(0.2, 1.5))
            third.kill()                                   # copier kill 3
            third.wait()
            final = start()
            deadline = time.time() + 120 + RECORDS / 200
            while time.time() < deadline and len(reader.inputs) < RECORDS:
                assert final.poll() is None, final.stderr.read().decode()
                time.sleep(1)
            final.terminate()
            final.wait(30)
        finally:
            reader.stop.set()
            reader.join(30)
            reader_log.close()
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    out = read_all(bs, sink, PARTITIONS, "read_committed", timeout=60)
    final_log = [(m.partition(), m.offset(), m.value().decode()) for m in out]
    ops = read_history([tmp_path / "reader.jsonl", *histories])
    report = check(ops, set(range(RECORDS)), final_log)
    summary = {k: (len(v), list(v)[:3]) for k, v in vars(report).items() if v}
    assert report.valid, summary
    assert reader.inputs == set(range(RECORDS))  # the concurrent reader saw everything once
