"""Kafka Streams 4.1.1 exactly_once_v2 word count SIGKILLed 3 times at random points while
input keeps arriving, then run to the end: the read_committed output ends at the exact counts
(stores rebuilt from read_committed changelogs after each crash, offsets committed only with
their transactions). Same assertions against Apache Kafka 4.1.1 and our broker."""
from __future__ import annotations

import os
import random
import subprocess
import time

import pytest
from confluent_kafka import Producer

from tests.integration.eos._eos import create_topic, read_all, unique
from tests.integration.eos.test_kafka_streams_eos import _compiled
from tests.reference import jvm

pytestmark = pytest.mark.system
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def test_streams_eos_survives_sigkill(kafka_broker, tmp_path):
    bs = kafka_broker.bootstrap_servers
    source, sink, app = unique("eos-skill-in"), unique("eos-skill-out"), unique("wc-kill")
    create_topic(bs, source, 2)
    create_topic(bs, sink, 2)
    rng = random.Random(os.environ.get("PYSTREAMS_EOS_SEED", "11"))
    producer = Producer({"bootstrap.servers": bs})
    expected: dict[str, int] = {}
    sent = [0]

    def send(lines: int) -> None:
        for _ in range(lines):
            words = [rng.choice(WORDS) for _ in range(rng.randint(1, 5))]
            for w in words:
                expected[w] = expected.get(w, 0) + 1
            producer.produce(source, key=str(sent[0]), value=" ".join(words))
            sent[0] += 1
        assert producer.flush(30) == 0

    def start() -> subprocess.Popen:
        command = jvm.java_command("StreamsEos", bs, app, source, sink, str(tmp_path / "state"),
                                   "300", extra_classpath=[_compiled()])
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
    send(300)
    for _ in range(3):
        proc = start()
        time.sleep(rng.uniform(4, 9))  # start-up, rebalance, some commits, mid-transaction
        send(100)
        proc.kill()
        proc.wait()
    send(100)
    proc = start()
    try:
        deadline = time.time() + 120
        final: dict[str, int] = {}
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.5)
            final = {}
            for m in read_all(bs, sink, 2, "read_committed"):
                final[m.key().decode()] = int.from_bytes(m.value(), "big", signed=True)
            if final == expected:
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert final == expected, err[-3000:]
