"""Audit s7 H1: under exactly_once_v2 a broker restart made the next send_offsets_to_transaction block forever
(librdkafka ignores its timeout, confluentinc/librdkafka#5456). The commit is now bounded by max.block.ms: the
producer is abandoned, a new one fences it and aborts the transaction, the tasks resume from the committed
offsets, so every line is counted exactly once in the read_committed output and close() returns in time."""
from __future__ import annotations

import tempfile
import time

import pytest

from pystreams.broker import EmbeddedBroker
from pystreams.runtime.kafka_streams import KafkaStreams
from tests.fixtures.pystreams_broker import TEST_CONFIG
from tests.integration.runtime.helpers import (
    create_topics,
    free_port,
    produce_lines,
    random_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)


@pytest.mark.system
def test_eos_word_count_survives_broker_restart(tmp_path) -> None:
    data, port = str(tmp_path / "broker"), free_port()
    broker = EmbeddedBroker(data, port=port, config=TEST_CONFIG).start()
    streams = None
    try:
        bs = broker.bootstrap_servers
        src, sink = unique("h1in"), unique("h1out")
        create_topics(bs, 3, src, sink)
        streams = KafkaStreams(wordcount_topology(src, sink), {
            "application.id": unique("h1"), "bootstrap.servers": bs, "processing.guarantee": "exactly_once_v2",
            "commit.interval.ms": 300, "state.dir": tempfile.mkdtemp(dir=tmp_path),
            "statestore.cache.max.bytes": 0, "producer.max.block.ms": 3000})
        lines = [f"{ln} line-{i}" for i, ln in enumerate(random_lines(11, 400))]
        streams.start()
        produce_lines(bs, src, lines[:200])
        first = word_counts(lines[:200])
        read_counts_until(bs, sink, lambda c: all(c.get(w, 0) >= n for w, n in first.items()), timeout=15,
                          isolation="read_committed")
        broker.close()
        time.sleep(2)
        broker = EmbeddedBroker(data, port=port, config=TEST_CONFIG).start()
        produce_lines(bs, src, lines[200:], 200)
        expected = word_counts(lines)
        counts = read_counts_until(bs, sink, lambda c: all(c.get(w, 0) >= n for w, n in expected.items()),
                                   timeout=25, isolation="read_committed")
        assert {w: counts.get(w, 0) for w in expected} == expected  # every line exactly once
        assert streams.errors == []
        started = time.monotonic()
        assert streams.close(10) is True
        assert time.monotonic() - started < 10
        streams = None
    finally:
        if streams is not None:
            streams.close(5)
        broker.close()
