"""A Java Kafka Streams 4.1.1 app and a pystreams app on the same broker read each other's output topics
(String/Long serdes byte-compatible), and both name their internal topics the same way
(`<application.id>-counts-repartition`, `<application.id>-counts-changelog`)."""
from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams
from tests.integration.runtime.helpers import (create_topics, produce_lines, random_lines, unique, word_counts,
                                               wordcount_topology)

pytestmark = [pytest.mark.integration, pytest.mark.reference]

JAVA_APP = Path(__file__).parent / "java" / "InteropWordCount.java"


def _latest(bootstrap: str, topic: str, decode, done, timeout: float = 180.0) -> dict:
    import time

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest"})
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


def test_java_and_pystreams_read_each_others_output(kafka_broker, tmp_path):
    from tests.reference.jvm import ReferenceSetupError, java_command

    bootstrap = kafka_broker.bootstrap_servers
    text, java_counts, py_counts, java_read, py_read = (unique(n) for n in
                                                        ("text", "java-counts", "py-counts", "java-read", "py-read"))
    create_topics(bootstrap, 2, text, java_counts, py_counts, java_read, py_read)
    java_app, py_app = unique("java-wc"), unique("py-wc")
    try:
        argv = java_command(str(JAVA_APP), bootstrap, java_app, str(tmp_path / "java-state"), text, java_counts,
                            py_counts, java_read)
    except ReferenceSetupError as e:
        pytest.skip(str(e))
    builder = StreamsBuilder()
    (builder.stream(java_counts, Consumed(key_serde=Serdes.String(), value_serde=Serdes.Long()))
        .map_values(lambda count: f"java:{count}")
        .to(py_read, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    reader = KafkaStreams(builder.build(), {"application.id": unique("py-reader"), "bootstrap.servers": bootstrap,
                                            "state.dir": str(tmp_path / "r"), "commit.interval.ms": 200})
    counter = KafkaStreams(wordcount_topology(text, py_counts, store="counts"), {
        "application.id": py_app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / "c"),
        "commit.interval.ms": 200})
    java = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # nothing between it and try
    try:
        counter.start()
        reader.start()
        lines = random_lines(17, 200)
        produce_lines(bootstrap, text, lines)
        expected = word_counts(lines)
        from_java = _latest(bootstrap, py_read, bytes.decode,
                            lambda c: c == {w: f"java:{n}" for w, n in expected.items()})
        assert from_java == {w: f"java:{n}" for w, n in expected.items()}  # Java's Longs read by pystreams
        from_py = _latest(bootstrap, java_read, bytes.decode,
                          lambda c: c == {w: f"py:{n}" for w, n in expected.items()})
        assert from_py == {w: f"py:{n}" for w, n in expected.items()}  # pystreams' Longs read by Java
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
