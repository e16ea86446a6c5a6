"""processing.guarantee=exactly_once_v2: a transactional producer per thread, offsets in the transaction,
read_committed input; the read_committed output has every count exactly once, in order, per word."""
from __future__ import annotations

import pytest

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (create_topics, produce_lines, random_lines, read_all, unique,
                                               word_counts, wordcount_topology)

pytestmark = pytest.mark.integration


def test_eos_word_count_has_each_count_once(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc-eos"), unique("text"), unique("counts")
    create_topics(bootstrap, 3, source, sink)
    lines = random_lines(5, 300)
    produce_lines(bootstrap, source, lines)
    expected = word_counts(lines)
    # no record cache: every update is forwarded, so the output holds 1..n for each word exactly once
    streams = KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "processing.guarantee": "exactly_once_v2", "statestore.cache.max.bytes": 0})
    assert streams.config.commit_interval_ms == 100  # Kafka's EOS default
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        total = sum(expected.values())
        records = read_all(bootstrap, sink, total, timeout=60, isolation="read_committed")
        # while running under EOS no checkpoint covers the (possibly uncommitted) local state: a crash now
        # means wipe and restore, as in Kafka Streams
        assert not list((tmp_path / app_id).glob("*/.checkpoint"))
    finally:
        assert streams.close(60)
    # written by the clean close, for the stateful tasks (the stateless 0_x have nothing to checkpoint: like
    # Kafka's OffsetCheckpoint for an empty map, no file)
    assert sorted(p.parent.name for p in (tmp_path / app_id).glob("*/.checkpoint")) == ["1_0", "1_1", "1_2"]
    per_word: dict[str, list[int]] = {}
    for key, value in records:
        per_word.setdefault(key.decode(), []).append(int.from_bytes(value, "big", signed=True))
    assert per_word == {w: list(range(1, n + 1)) for w, n in expected.items()}
