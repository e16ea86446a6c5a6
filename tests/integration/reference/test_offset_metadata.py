"""Kafka Streams commits each input partition's offset with metadata (TopicPartitionMetadata.encode: base64 of magic
byte 2, the 8-byte big-endian partition time, then ProcessorMetadata, empty unless a processor stored some), and
StreamTask.initializeTaskTimeAndProcessorMetadata reads it back to restore the task's partition (stream) times.
The Java side is checked in test_stateful_migration.py; this checks that pystreams commits the same, so a Java app
taking over a pystreams app's group restores its stream time instead of starting from "unknown"."""
from __future__ import annotations

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime.kafka_streams import KafkaStreams
from tests.integration.reference.test_stateful_migration import (
    _max_timestamps,
    _partition_times,
    _produce,
)
from tests.integration.runtime.helpers import create_topics, read_all, unique

pytestmark = [pytest.mark.integration, pytest.mark.reference]


@pytest.mark.xfail(strict=True, reason="codec and StreamTask.partition_time landed (runtime/offset_metadata.py); pending: "
                                       "thread_commit.py attaches it (to-K-from-L.md), group client carries "
                                       "metadata (to-I-from-L.md)")
def test_pystreams_commits_kafka_streams_offset_metadata(reference_kafka, tmp_path):
    bootstrap = reference_kafka.bootstrap_servers
    source, sink, app_id = unique("in"), unique("out"), unique("metadata")
    create_topics(bootstrap, 2, source, sink)
    _produce(bootstrap, source, [(f"line {i}", 1_764_000_000_000 + i * 1000) for i in range(20)], 0)
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(str.upper).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    app = KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                         "state.dir": str(tmp_path), "commit.interval.ms": 200,
                                         "auto.offset.reset": "earliest"})
    app.start()
    try:
        assert len(read_all(bootstrap, sink, 20, timeout=60)) == 20
    finally:
        assert app.close(60)
    assert _partition_times(bootstrap, app_id, source) == _max_timestamps(bootstrap, source)
