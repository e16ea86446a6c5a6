"""A Java Kafka Streams 4.1.1 app and a pystreams app on the same broker read each other's output topics
(String/Long serdes byte-compatible), and both name their internal topics the same way
(`<application.id>-counts-repartition`, `<application.id>-counts-changelog`).

Under at_least_once the latest values are compared. Under exactly_once_v2 both sides write in transactions
(their count topics hold commit markers) and read the other's output read_committed, with the record cache off on
both sides: every word's updates on each side's read topic are exactly "java:1".."java:n" / "py:1".."py:n",
re-read after a settle delay, so nothing is lost or repeated across the hop in either direction."""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_to_end,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = [pytest.mark.integration, pytest.mark.reference]

JAVA_APP = Path(__file__).parent / "java" / "InteropWordCount.java"


def _latest(bootstrap: str, topic: str, decode, done, timeout: float = 180.0,
            isolation: str = "read_uncommitted") -> dict:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "isolation.level": isolation})
    consumer.subscribe([topic])
    latest: dict = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(latest):
            for m in consumer.consume(500, 0.3):
                if m.error() is None:
                    latest[m.key().decode()] = decode(m.value())
    finally:
        consumer.close()
    return latest


def _updates(bootstrap: str, topic: str) -> dict[str, list[str]]:
    """Every read_committed (String, String) update of topic per key, in offset order, to the end offsets."""
    out: dict[str, list[str]] = {}
    for key, value in read_to_end(bootstrap, topic, timeout=60, isolation="read_committed"):
        out.setdefault(key.decode(), []).append(value.decode())
    return out


def _markers(bootstrap: str, topic: str) -> int:
    """Offsets of topic not taken by a record: transaction markers (commit/abort), when nothing was deleted."""
    records = len(read_to_end(bootstrap, topic, timeout=60, isolation="read_uncommitted"))
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False) for p in parts]
    finally:
        consumer.close()
    return sum(high - low for low, high in ends) - records


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_java_and_pystreams_read_each_others_output(kafka_broker, tmp_path, guarantee):
    from tests.reference.jvm import ReferenceSetupError, java_command

    bootstrap = kafka_broker.bootstrap_servers
    eos = guarantee == "exactly_once_v2"
    isolation = "read_committed" if eos else "read_uncommitted"
    # under EOS the record cache is off, so every count update is output (the exact 1..n check below)
    eos_config = {"processing.guarantee": guarantee, "statestore.cache.max.bytes": 0} if eos else {}
    text, java_counts, py_counts, java_read, py_read = (unique(n) for n in
                                                        ("text", "java-counts", "py-counts", "java-read", "py-read"))
    create_topics(bootstrap, 2, text, java_counts, py_counts, java_read, py_read)
    java_app, py_app = unique("java-wc"), unique("py-wc")
    try:
        argv = java_command(str(JAVA_APP), bootstrap, java_app, str(tmp_path / "java-state"), text, java_counts,
                            py_counts, java_read, *((guarantee, "0") if eos else ()))
    except ReferenceSetupError as e:
        pytest.skip(str(e))
    builder = StreamsBuilder()
    (builder.stream(java_counts, Consumed(key_serde=Serdes.String(), value_serde=Serdes.Long()))
        .map_values(lambda count: f"java:{count}")
        .to(py_read, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    reader = KafkaStreams(builder.build(), {"application.id": unique("py-reader"), "bootstrap.servers": bootstrap,
                                            "state.dir": str(tmp_path / "r"), "commit.interval.ms": 200,
                                            **eos_config})
    counter = KafkaStreams(wordcount_topology(text, py_counts, store="counts"), {
        "application.id": py_app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / "c"),
        "commit.interval.ms": 200, **eos_config})
    java = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # nothing between it and try
    try:
        counter.start()
        reader.start()
        lines = random_lines(17, 200)
        produce_lines(bootstrap, text, lines)
        expected = word_counts(lines)
        from_java = _latest(bootstrap, py_read, bytes.decode,
                            lambda c: c == {w: f"java:{n}" for w, n in expected.items()}, isolation=isolation)
        assert from_java == {w: f"java:{n}" for w, n in expected.items()}  # Java's Longs read by pystreams
        from_py = _latest(bootstrap, java_read, bytes.decode,
                          lambda c: c == {w: f"py:{n}" for w, n in expected.items()}, isolation=isolation)
        assert from_py == {w: f"py:{n}" for w, n in expected.items()}  # pystreams' Longs read by Java
        if eos:
            time.sleep(2)  # a late duplicate (a zombie's commit) would land now
            assert _updates(bootstrap, py_read) == {w: [f"java:{i}" for i in range(1, n + 1)]
                                                    for w, n in expected.items()}
            assert _updates(bootstrap, java_read) == {w: [f"py:{i}" for i in range(1, n + 1)]
                                                      for w, n in expected.items()}
            # both count topics were written in transactions (a marker per committed transaction and partition)
            assert _markers(bootstrap, java_counts) > 0 and _markers(bootstrap, py_counts) > 0
        topics = set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)
        internal = {app: {t[len(app) + 1:] for t in topics if t.startswith(app + "-")} for app in (java_app, py_app)}
        assert internal[java_app] == internal[py_app] == {"counts-repartition", "counts-changelog"}
    finally:
        java.send_signal(signal.SIGTERM)
        try:
            java.wait(30)
        except subprocess.TimeoutExpired:
            java.kill()
            java.wait(10)
        reader.close(60)
        counter.close(60)
