"""State across restarts, under at_least_once and exactly_once_v2: a clean restart restores nothing (checkpoint
files, written on a clean close under EOS too), a deleted state dir is rebuilt from the changelog, and the counts
continue exactly either way: every word's updates over the three runs are 1, 2, ..., n (record cache off, so every
update is output; read_committed under EOS), after a settle re-read."""
from __future__ import annotations

import pytest

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_count_updates,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration


def _run_batch(bootstrap, config, topology, source, sink, lines, start, all_lines):
    """Start the app, feed `lines`, wait until the output shows the counts of all_lines, close cleanly."""
    isolation = "read_committed" if config["processing.guarantee"] == "exactly_once_v2" else "read_uncommitted"
    streams = KafkaStreams(topology, config)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        restored = streams.metrics()["restore-total"]
        produce_lines(bootstrap, source, lines, start)
        expected = word_counts(all_lines)
        counts = read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60, isolation=isolation)
        assert counts == expected
    finally:
        assert streams.close(60)
    return streams, restored


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_clean_restart_restores_nothing_and_a_lost_state_dir_is_restored(kafka_broker, tmp_path, guarantee):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc-restart"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    topology = wordcount_topology(source, sink)
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 200, "processing.guarantee": guarantee, "statestore.cache.max.bytes": 0}
    batches = [random_lines(seed, 150) for seed in (1, 2, 3)]

    _, restored = _run_batch(bootstrap, config, topology, source, sink, batches[0], 0, batches[0])
    assert restored == 0  # nothing to restore on a fresh start

    # clean restart: the .checkpoint files cover the whole changelog, so nothing is replayed
    second, restored = _run_batch(bootstrap, config, topology, source, sink, batches[1], 150,
                                  batches[0] + batches[1])
    assert restored == 0

    # the state dir is gone: every store is rebuilt from its changelog before processing
    second.cleanup()
    assert not (tmp_path / app_id).exists()
    _, restored = _run_batch(bootstrap, config, topology, source, sink, batches[2], 300,
                                 batches[0] + batches[1] + batches[2])
    distinct_words = len(word_counts(batches[0] + batches[1]))
    assert restored >= distinct_words  # at least one changelog record per word counted so far

    # nothing counted twice or skipped across the restarts (a replay would repeat a count, a lost update skip one)
    expected = word_counts(batches[0] + batches[1] + batches[2])
    isolation = "read_committed" if guarantee == "exactly_once_v2" else "read_uncommitted"
    per_word = read_count_updates(bootstrap, sink, sum(expected.values()), timeout=30, isolation=isolation)
    assert per_word == {w: list(range(1, n + 1)) for w, n in expected.items()}


def test_repartition_records_below_the_committed_offsets_are_purged(kafka_broker, tmp_path):
    """Kafka Streams deletes consumed repartition records (deleteRecords) so the topic does not grow forever."""
    import time

    from confluent_kafka import Consumer, TopicPartition

    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc-purge"), unique("text"), unique("counts")
    create_topics(bootstrap, 1, source, sink)
    lines = random_lines(4, 100)
    produce_lines(bootstrap, source, lines)
    expected = word_counts(lines)
    streams = KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "repartition.purge.interval.ms": 0})
    topic = f"{app_id}-word-counts-repartition"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        streams.start()
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        deadline = time.monotonic() + 30
        low = high = 0
        while time.monotonic() < deadline:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
            if high == sum(expected.values()) and low == high:
                break
            time.sleep(0.2)
        assert (low, high) == (sum(expected.values()), sum(expected.values()))  # every word: written, purged
    finally:
        consumer.close()
        assert streams.close(60)
