"""Task time survives a restart, as in Kafka Streams: each commit carries the input partition's time
(TopicPartitionMetadata) and a task created later starts its partition times and stream time from it
(StreamTask.initializeTaskTimeAndProcessorMetadata). Observable through the Processor API: after a clean close and a
restart, a record older than the last one processed sees the previous run's stream time
(ProcessorContext.current_stream_time_ms), and a timestamp extractor is handed the committed partition time (what
UsePartitionTimeOnInvalidTimestamp gives a record without a valid timestamp).

What does NOT carry over, in Kafka either: a DSL operator's own stream time (a windowed aggregation's grace
bookkeeping, "operator time") restarts from the first record it sees (KAFKA-20099's docs). Both brokers, both
processing guarantees; the Java-written direction is in tests/integration/reference/test_offset_metadata.py."""
from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from kafka.admin import KafkaAdminClient

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.runtime.kafka_streams import KafkaStreams
from tests.integration.reference.test_stateful_migration import (
    _max_timestamps,
)
from tests.integration.runtime.helpers import create_topics, read_latest_until, unique

pytestmark = pytest.mark.integration

# an hour ago: records a year old would be deleted under the tests by the brokers' time retention (7 days)
BASE = (int(time.time() * 1000) - 3_600_000) // 1000 * 1000
PARTITION_TIME = "partition-time"  # a record whose timestamp the extractor replaces by the partition time


class StreamTimeProbe(Processor[str, str, str, str]):
    """Forwards each record with "<record timestamp>/<task stream time>" as its value."""

    def init(self, context: ProcessorContext[str, str]) -> None:
        self.context = context

    def process(self, record: Record[str, str]) -> None:
        self.context.forward(record.with_value(f"{record.timestamp}/{self.context.current_stream_time_ms()}"))


def _extract(record: Any, partition_time: int) -> int:
    return partition_time if record.value == PARTITION_TIME else int(record.timestamp)


def probe_app(app_id: str, bootstrap: str, state_dir: Path, source: str, sink: str, guarantee: str) -> KafkaStreams:
    """source -> StreamTimeProbe -> sink, reading from the group's committed offsets (earliest without any)."""
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String(),
                                     timestamp_extractor=_extract))
        .process(StreamTimeProbe).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                          "state.dir": str(state_dir), "commit.interval.ms": 200,
                                          "processing.guarantee": guarantee, "auto.offset.reset": "earliest"})


def committed(bootstrap: str, group: str, topic: str) -> dict[int, tuple[int, str]]:
    """partition -> the group's committed (offset, metadata) for `topic`, as stored. Read with kafka-python:
    confluent-kafka's committed() reads metadata as a C string past its end (librdkafka#4649)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        offsets = admin.list_group_offsets({group: None})[group]
    finally:
        admin.close()
    return {tp.partition: (o.offset, o.metadata or "") for tp, o in offsets.items() if tp.topic == topic}


def committed_metadata(bootstrap: str, group: str, topic: str) -> dict[int, str]:
    """partition -> the group's committed metadata for `topic`, as stored."""
    return {p: metadata for p, (_offset, metadata) in committed(bootstrap, group, topic).items()}


def partition_time(metadata: str) -> int:
    """The partition time of Kafka Streams' TopicPartitionMetadata (magic 2, 8-byte time, no processor metadata).
    One trailing NUL is tolerated: exactly_once_v2 commits go through librdkafka, to which confluent-kafka-python
    hands the C string's terminator too (test_offset_metadata.py has the strict check)."""
    raw = base64.b64decode(metadata.removesuffix("\x00"), validate=True)
    assert len(raw) == 9 and raw[0] == 2, metadata
    return int.from_bytes(raw[1:], "big", signed=True)


def wait_for_commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int], timeout: float = 60.0
                    ) -> dict[int, int]:
    """Wait until the group committed `offsets` (partition -> next offset) for `topic` (a periodic commit: every
    commit.interval.ms); the partition times committed with them."""
    deadline = time.monotonic() + timeout
    while True:
        got = committed(bootstrap, group, topic)
        if {p: offset for p, (offset, _md) in got.items()} == offsets:
            return {p: partition_time(md) for p, (_offset, md) in got.items()}
        assert time.monotonic() < deadline, f"committed {got}, waiting for offsets {offsets}"
        time.sleep(0.2)


def produce_at(bootstrap: str, topic: str, records: list[tuple[int, str, str, int]]) -> None:
    """(partition, key, value, timestamp) records, in order."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for partition, key, value, ts in records:
        producer.produce(topic, key=key.encode(), value=value.encode(), partition=partition, timestamp=ts)
    assert producer.flush(30) == 0


def probe_outputs(bootstrap: str, topic: str, keys: set[str], timeout: float = 90.0) -> dict[str, str]:
    """key -> the probe's value, for the given keys (read_committed), waiting until all arrived or the timeout."""
    latest = read_latest_until(bootstrap, topic, lambda out: keys <= set(out), timeout)
    return {k: v for k, v in latest.items() if k in keys}


def late_records(partitions: int, old_ts: int) -> list[tuple[int, str, str, int]]:
    """Per partition: a record older than anything before, then one stamped with the partition time."""
    out = []
    for p in range(partitions):
        out.append((p, f"old-{p}", "old", old_ts))
        out.append((p, f"pt-{p}", PARTITION_TIME, old_ts))
    return out


def expected_probe_values(partition_times: dict[int, int], old_ts: int) -> dict[str, str]:
    """What the probe forwards for late_records when each task resumed from its committed partition time."""
    want = {}
    for p, pt in partition_times.items():
        want[f"old-{p}"] = f"{old_ts}/{pt}"  # stream time stays at the committed partition time
        want[f"pt-{p}"] = f"{pt}/{pt}"  # the extractor is handed the committed partition time
    return want


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_task_time_survives_a_restart(kafka_broker: Any, tmp_path: Path, guarantee: str) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink, app_id = unique("in"), unique("out"), unique("ptime")
    create_topics(bootstrap, 2, source, sink)
    # first run: partition 0 up to BASE + 4 s, partition 1 up to BASE + 9 s (out of order inside each)
    first = [(0, f"a{i}", "x", BASE + ts) for i, ts in enumerate((1_000, 4_000, 2_000))]
    first += [(1, f"b{i}", "x", BASE + ts) for i, ts in enumerate((9_000, 3_000))]
    produce_at(bootstrap, source, first)
    app = probe_app(app_id, bootstrap, tmp_path / "state", source, sink, guarantee)
    app.start()
    try:
        seen = probe_outputs(bootstrap, sink, {key for _p, key, _v, _ts in first})
        assert seen["a2"] == f"{BASE + 2_000}/{BASE + 4_000}"  # an out-of-order record within the run
        # a periodic commit (not only the one at close) carries the partition times
        times = wait_for_commit(bootstrap, app_id, source, {0: 3, 1: 2})
    finally:
        assert app.close(60)
    assert times == _max_timestamps(bootstrap, source) == {0: BASE + 4_000, 1: BASE + 9_000}

    # second run, same state dir: the old records do not move task time back
    old_ts = BASE - 60_000
    produce_at(bootstrap, source, late_records(2, old_ts))
    app = probe_app(app_id, bootstrap, tmp_path / "state", source, sink, guarantee)
    app.start()
    try:
        want = expected_probe_values(times, old_ts)
        assert probe_outputs(bootstrap, sink, set(want)) == want
        # what the second run commits for them: the same times (nothing newer was processed)
        assert wait_for_commit(bootstrap, app_id, source, {0: 5, 1: 4}) == times
    finally:
        assert app.close(60)
