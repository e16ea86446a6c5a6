"""A windowed count with the record cache on sends each commit's flushed windows to the changelog straight into the
producer and counts them per flush (KafkaRecordCollector.batch_producer / add_sent): the counts give the changelog
offsets the .checkpoint files record, so a clean restart restores nothing (a count too low would replay the tail, a
count too high would leave a checkpoint past the changelog's end), and the window counts continue exactly."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, read_counts_until, unique

pytestmark = pytest.mark.integration

WINDOW_MS = 1_000
WORDS = [f"w{i}" for i in range(40)]


def _topology(source: str, sink: str) -> Any:
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .windowed_by(TimeWindows.of_size_with_no_grace(timedelta(milliseconds=WINDOW_MS)))
        .count(Materialized(name="window-counts"))
        .to_stream(lambda wk, _v: f"{wk.key}@{wk.window.start}")
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()


def _records(first: int, n: int) -> list[tuple[str, int]]:
    """(word, timestamp): 10 ms apart, so each 1 s window of a word gets a few records."""
    return [(WORDS[(i * 7) % len(WORDS)], 1_700_000_000_000 + i * 10) for i in range(first, first + n)]


def _produce(bootstrap: str, topic: str, records: list[tuple[str, int]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    for word, ts in records:
        producer.produce(topic, key=word.encode(), value=b"x", timestamp=ts)
    assert producer.flush(30) == 0


def _expected(records: list[tuple[str, int]]) -> dict[str, int]:
    return dict(Counter(f"{word}@{ts - ts % WINDOW_MS}" for word, ts in records))


def _run(bootstrap: str, config: dict[str, Any], source: str, sink: str, feed: list[tuple[str, int]],
         every: list[tuple[str, int]]) -> int:
    isolation = "read_committed" if config["processing.guarantee"] == "exactly_once_v2" else "read_uncommitted"
    streams = KafkaStreams(_topology(source, sink), config)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        restored = streams.metrics()["restore-total"]
        _produce(bootstrap, source, feed)
        expected = _expected(every)
        counts = read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60, isolation=isolation)
        assert counts == expected
    finally:
        assert streams.close(60)
    return int(restored)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_window_changelog_counts_make_a_clean_restart_restore_nothing(kafka_broker, tmp_path, guarantee):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("win-in"), unique("win-out")
    create_topics(bootstrap, 2, source, sink)
    config = {"application.id": unique("win-restart"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 200, "processing.guarantee": guarantee}
    first, second = _records(0, 1500), _records(1500, 1500)
    assert _run(bootstrap, config, source, sink, first, first) == 0
    # the checkpoints cover each task's whole changelog: nothing replayed, and counts go on from the store
    assert _run(bootstrap, config, source, sink, second, first + second) == 0
