"""Kafka Streams 4.1.1 (Java) with processing.guarantee=exactly_once_v2 against both brokers:
a word count's read_committed output ends at the exact counts (transactional changelogs,
sendOffsetsToTransaction with the group's generation, read_committed repartition reads)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from tests.integration.eos._eos import compiled_java, create_topic, read_all, unique
from tests.reference import jvm

pytestmark = pytest.mark.integration
LINES = ["the quick brown fox", "the lazy dog", "a quick dog", "the end"] * 25


def _compiled() -> Path:
    """StreamsEos's classes (tests/system/eos imports this name)."""
    return compiled_java("StreamsEos")


def test_kafka_streams_exactly_once_v2_word_count(kafka_broker, tmp_path):
    bs = kafka_broker.bootstrap_servers
    source, sink = unique("eos-wc-in"), unique("eos-wc-out")
    create_topic(bs, source, 2)
    create_topic(bs, sink, 2)
    p = Producer({"bootstrap.servers": bs})
    for i, line in enumerate(LINES):
        p.produce(source, key=str(i), value=line)
    assert p.flush(30) == 0
    expected: dict[str, int] = {}
    for line in LINES:
        for w in line.split():
            expected[w] = expected.get(w, 0) + 1
    command = jvm.java_command("StreamsEos", bs, unique("wc-app"), source, sink,
                               str(tmp_path / "state"), "90", extra_classpath=[_compiled()])
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
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
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave the JVM behind; the test still fails
            proc.communicate()
            raise
    assert "failed" not in out, err[-4000:]
    assert final == expected, err[-4000:]
