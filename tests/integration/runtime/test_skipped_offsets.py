"""Records skipped at the source (a value the deserializer rejects, under LogAndContinueExceptionHandler; a negative
extracted timestamp) are committed even when no valid record follows them, on both brokers: after a commit the
application's group has committed offset past the trailing skipped records (Kafka puts a CorruptedRecord's offset
into consumedOffsets and commits the consumer's position of an empty queue), so group lag goes to 0 and a restart
does not read them again."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import committed_offset, create_topics, read_all, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
NEGATIVE = -7  # a value the app's extractor turns into a negative timestamp


def _int(v: int) -> bytes:
    return v.to_bytes(4, "big", signed=True)


def _extractor(record: Any, partition_time: int) -> int:
    return -1 if record.value == NEGATIVE else int(record.timestamp)


def _produce(bootstrap: str, topic: str, values: list[bytes], start: int = 0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i, v in enumerate(values, start):
        producer.produce(topic, key=f"k{i}".encode(), value=v)
    assert producer.flush(30) == 0


@pytest.mark.parametrize("trailing", ["undeserializable", "negative-timestamp", "both", "both-fetched-later"])
def test_trailing_skipped_records_are_committed(kafka_broker: Any, tmp_path: Any, trailing: str) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("skip-in"), unique("skip-out")
    create_topics(bootstrap, 1, source, sink)
    bad = {"undeserializable": [b"bad", b"worse!"], "negative-timestamp": [_int(NEGATIVE), _int(NEGATIVE)],
           "both": [b"bad", _int(NEGATIVE)], "both-fetched-later": [b"bad", _int(NEGATIVE)]}[trailing]
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.Integer()))
        .map_values(lambda v: v * 10)
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Integer())))
    app_id = unique("skip")
    streams = KafkaStreams(builder.build(), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "default.timestamp.extractor": _extractor,
        "deserialization.exception.handler": "LogAndContinueExceptionHandler"})
    try:
        streams.start()
        later = trailing.endswith("later")  # the skipped records come in a fetch of their own, after processing
        _produce(bootstrap, source, [_int(1), _int(2)] + ([] if later else bad))  # 0-1 valid, 2-3 skipped
        assert sorted(v for _k, v in read_all(bootstrap, sink, 2, timeout=60)) == [_int(10), _int(20)]
        if later:
            assert committed_offset(bootstrap, app_id, source, 2) == 2
            _produce(bootstrap, source, bad, start=2)
        assert committed_offset(bootstrap, app_id, source, 4) == 4
        assert streams.state is State.RUNNING and streams.errors == []
        dropped = sum(at.task.metrics.dropped_records for t in streams.threads for at in t.tasks.values())
        assert dropped == 2
    finally:
        streams.close(30)
