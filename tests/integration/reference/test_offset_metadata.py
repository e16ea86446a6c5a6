"""Kafka Streams commits each input partition's offset with metadata (TopicPartitionMetadata.encode: base64 of magic
byte 2, the 8-byte big-endian partition time, then ProcessorMetadata, empty unless a processor stored some), and
StreamTask.initializeTaskTimeAndProcessorMetadata reads it back to restore the task's partition (stream) times.
The Java side is checked in test_stateful_migration.py; this checks that pystreams commits the same under both
processing guarantees (the group's OffsetCommit under at_least_once, the transaction's TxnOffsetCommit under
exactly_once_v2), on both brokers, so a Java app taking over a pystreams app's group restores its stream time
instead of starting from "unknown". Reading it back: tests/integration/runtime/test_committed_partition_time.py.

The committed metadata is read with kafka-python (committed_metadata, _partition_times), not confluent-kafka's
committed(): librdkafka reads it as a C string past its end (librdkafka#4649)."""
from __future__ import annotations

import time
from collections import Counter

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime.kafka_streams import KafkaStreams
from pystreams.runtime.offset_metadata import encode
from tests.integration.reference.test_stateful_migration import (
    _max_timestamps,
    _partition_times,
    _produce,
    _records,
)
from tests.integration.runtime.helpers import create_topics, read_all, unique
from tests.integration.runtime.test_committed_partition_time import (
    BASE,
    committed_metadata,
    wait_for_commit,
)

pytestmark = [pytest.mark.integration, pytest.mark.reference]


# exactly_once_v2 commits the offsets through librdkafka's send_offsets_to_transaction; confluent-kafka-python's own
# call hands it metadata_size = strlen + 1 (py_to_c_parts), so the stored metadata would end with a NUL, which Java's
# TopicPartitionMetadata.decode rejects (Base64.getDecoder(): "Unsupported offset metadata found", partition time
# unknown). pystreams makes the same librdkafka call with the metadata's length (runtime/txn_offsets.py).
@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_pystreams_commits_kafka_streams_offset_metadata(kafka_broker, tmp_path, guarantee):
    bootstrap = kafka_broker.bootstrap_servers
    source, sink, app_id = unique("in"), unique("out"), unique("metadata")
    create_topics(bootstrap, 2, source, sink)
    _produce(bootstrap, source, [(f"line {i}", BASE + i * 1000) for i in range(20)], 0)
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(str.upper).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    app = KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                         "state.dir": str(tmp_path), "commit.interval.ms": 200,
                                         "processing.guarantee": guarantee, "auto.offset.reset": "earliest"})
    ends = Counter(partition for partition, _k, _v, _ts in _records(bootstrap, source))
    app.start()
    try:
        assert len(read_all(bootstrap, sink, 20, timeout=60, isolation="read_committed")) == 20
        wait_for_commit(bootstrap, app_id, source, dict(ends))  # a periodic commit, not only the one at close
    finally:
        assert app.close(60)
    want = _max_timestamps(bootstrap, source)
    assert len(want) == 2  # both partitions got records, so both committed offsets carry a partition time
    # byte for byte what Kafka Streams commits (TopicPartitionMetadata.encode of the partition's largest timestamp)
    assert committed_metadata(bootstrap, app_id, source) == {p: encode(ts) for p, ts in want.items()}


def test_java_written_metadata_seeds_pystreams_task_time(reference_kafka, tmp_path):
    """A Java Kafka Streams app (StatefulMigration, test_stateful_migration.py) commits; a pystreams app with the same
    application.id takes the group over and its tasks resume from the partition times Java committed."""
    from tests.integration.reference.test_stateful_migration import (
        GAP_MS,
        MAIN_CLASS,
        STEP_MS,
        WINDOW_MS,
        _JavaApp,
    )
    from tests.integration.runtime.test_committed_partition_time import (
        expected_probe_values,
        late_records,
        probe_app,
        probe_outputs,
        produce_at,
    )
    from tests.reference import jvm
    from tests.reference.streams_oracle import compile_oracle

    bootstrap = reference_kafka.bootstrap_servers
    topics = source, counts, windows, sessions, probed = tuple(
        unique(n) for n in ("lines", "counts", "windows", "sessions", "probed"))
    create_topics(bootstrap, 2, *topics)
    app_id = unique("java-ptime")
    try:
        argv = jvm.java_command(MAIN_CLASS, bootstrap, app_id, str(tmp_path / "java-state"), source, counts, windows,
                                str(WINDOW_MS), sessions, str(GAP_MS), "at_least_once",
                                extra_classpath=[compile_oracle()])
    except jvm.ReferenceSetupError as e:
        pytest.skip(str(e))
    base = BASE
    _produce(bootstrap, source, [(f"word{i % 3} other", base + i * STEP_MS) for i in range(12)], 0)
    want_times = _max_timestamps(bootstrap, source)
    assert len(want_times) == 2
    java = _JavaApp(argv, tmp_path / "java.log")
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and java.proc.poll() is None:
            if _partition_times(bootstrap, app_id, source) == want_times:
                break
            time.sleep(0.5)
    finally:
        code = java.close()
    assert code in (0, 143) and "CLOSED true" in java.text(), java.text()[-3000:]
    committed = _partition_times(bootstrap, app_id, source)  # Java's TopicPartitionMetadata, decoded
    assert committed == want_times, java.text()[-3000:]

    old_ts = base - 60_000
    produce_at(bootstrap, source, late_records(2, old_ts))
    app = probe_app(app_id, bootstrap, tmp_path / "py-state", source, probed, "at_least_once")
    app.start()
    try:
        want = expected_probe_values(committed, old_ts)
        # the first rebalance waits for the Java member's session timeout (6 s): it does not leave on close
        assert probe_outputs(bootstrap, probed, set(want), timeout=90) == want
    finally:
        assert app.close(60)
