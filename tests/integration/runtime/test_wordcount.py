"""Word count through KafkaStreams on a real broker (ours and the reference Apache Kafka), counts exact."""
from __future__ import annotations

import os

import pytest

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (create_topics, produce_lines, random_lines, read_counts_until,
                                               unique, word_counts, wordcount_topology)

pytestmark = pytest.mark.integration


def test_word_count_counts_are_exact(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc"), unique("text"), unique("counts")
    create_topics(bootstrap, 3, source, sink)
    lines = random_lines(7, 400)
    produce_lines(bootstrap, source, lines)
    expected = word_counts(lines)
    transitions = []
    streams = KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 200})
    streams.set_state_listener(lambda new, old: transitions.append((old, new)))
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60), f"never RUNNING: {transitions}"
        counts = read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60)
        assert counts == expected
    finally:
        assert streams.close(60)
    assert streams.state is State.NOT_RUNNING
    assert transitions[0] == (State.CREATED, State.REBALANCING)
    assert (State.REBALANCING, State.RUNNING) in transitions
    assert transitions[-2:] == [(State.RUNNING, State.PENDING_SHUTDOWN), (State.PENDING_SHUTDOWN, State.NOT_RUNNING)]
    # the internal topics were created with the app-id prefix; tasks wrote their checkpoints on close
    entries = sorted(os.listdir(tmp_path / app_id))
    assert [e for e in entries if not e.startswith(".") and e != "kafka-streams-process-metadata"] == [
        "0_0", "0_1", "0_2", "1_0", "1_1", "1_2"]
    assert "kafka-streams-process-metadata" in entries  # Kafka's process id file: restarts keep their id
    checkpoint = (tmp_path / app_id / "1_0" / ".checkpoint").read_text().splitlines()
    assert checkpoint[:2] == ["0", "1"]
    topic, partition, offset = checkpoint[2].split()
    assert (topic, partition) == (f"{app_id}-word-counts-changelog", "0") and int(offset) >= 0


def test_the_producer_places_keys_like_our_murmur2(pystreams_broker):
    """librdkafka's murmur2_random (the runtime's producer) and pystreams' murmur2 agree on every key, so
    query_metadata_for_key finds the partition the records were written to (Java's default partitioner)."""
    from confluent_kafka import Producer

    from pystreams.runtime.config import StreamsConfig
    from pystreams.runtime.partitioning import default_partition
    from tests.integration.runtime.helpers import read_all

    bootstrap = pystreams_broker.bootstrap_servers
    topic = unique("placed")
    create_topics(bootstrap, 5, topic)
    config = StreamsConfig({"application.id": "x", "bootstrap.servers": bootstrap}).producer_config("p")
    placed = {}
    producer = Producer({k: v for k, v in config.items() if k != "delivery.report.only.error"})
    for i in range(200):
        key = f"key-{i}".encode()
        producer.produce(topic, b"v", key, on_delivery=lambda err, msg: placed.__setitem__(msg.key(), msg.partition()))
    assert producer.flush(30) == 0
    assert len(read_all(bootstrap, topic, 200, timeout=30)) == 200
    assert placed == {f"key-{i}".encode(): default_partition(f"key-{i}".encode(), 5) for i in range(200)}
