"""Batches from a real client through a real Kafka: librdkafka (confluent-kafka) produces with
every codec (none, gzip, snappy, lz4, zstd) and idempotence to the reference Apache Kafka; we
take the batches from Kafka's own segment file, append them to our log (CRC-checked, records
never decoded), and our .log file comes out byte for byte equal to Kafka's (indexes too);
kafka-dump-log then decodes every record of ours, and we open Kafka's own partition dir."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.protocol.record_batch import iter_batches

pytestmark = [pytest.mark.integration, pytest.mark.reference]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def produce_real_batches(bootstrap: str, topic: str) -> int:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    sent = 0
    for codec in CODECS:
        producer = Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                             "enable.idempotence": True, "linger.ms": 50})
        for i in range(200):
            producer.produce(topic, key=b"%s-%d" % (codec.encode(), i),
                             value=(b"value %d " % i) * 10, headers=[("codec", codec.encode())],
                             timestamp=1_700_000_000_000 + i)
            sent += 1
        assert producer.flush(30) == 0
    return sent


def test_kafka_stored_batches_are_stored_identically_by_us(tmp_path: Path) -> None:
    reference = pytest.importorskip("tests.reference.kafka")
    from tests.integration.log.test_dump_log import dump_log

    topic = "real-batches"
    with reference.ReferenceKafka(data_dir=tmp_path / "kafka") as kafka:
        sent = produce_real_batches(kafka.bootstrap_servers, topic)
        kafka_log = kafka.data_dir / f"{topic}-0" / "00000000000000000000.log"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # acked means written; page cache serves it
            theirs = kafka_log.read_bytes()
            if sum(v.header.records_count for v in iter_batches(theirs)) == sent:
                break
            time.sleep(0.1)
    # after Kafka's clean shutdown its indexes are trimmed to their valid entries
    kafka_dir = tmp_path / "kafka" / "data" / f"{topic}-0"
    kafka_index = (kafka_dir / "00000000000000000000.index").read_bytes()
    kafka_timeindex = (kafka_dir / "00000000000000000000.timeindex").read_bytes()
    batches = list(iter_batches(theirs))
    codecs = {v.header.compression for v in batches}
    assert codecs == {0, 1, 2, 3, 4}, codecs
    assert all(v.header.producer_id >= 0 for v in batches)  # idempotent producer batches

    ours = PartitionLog.open(tmp_path / f"{topic}-0", LogConfig())
    for v in batches:
        payload = bytearray(v.buf)
        payload[0:8] = b"\0" * 8  # as a client sends it: base offset 0
        payload[12:16] = b"\xff" * 4  # partitionLeaderEpoch -1
        ours.append(memoryview(payload), now_ms=1_700_000_000_000)
    ours.close()
    our_file = tmp_path / f"{topic}-0" / "00000000000000000000.log"
    assert our_file.read_bytes() == theirs
    # one batch per produce request, as librdkafka sends: Kafka's per-append index entries
    # and our per-batch ones coincide, entry for entry
    assert len(kafka_index) >= 16
    assert our_file.with_suffix(".index").read_bytes() == kafka_index
    assert our_file.with_suffix(".timeindex").read_bytes() == kafka_timeindex

    # and the other way round: we open Kafka's own partition directory and serve its batches
    copied = tmp_path / "copied" / f"{topic}-0"
    shutil.copytree(kafka_dir, copied)
    foreign = PartitionLog.open(copied, LogConfig())
    assert foreign.log_end_offset == sent
    assert foreign.read(0, 1 << 30).to_bytes() == theirs
    assert foreign.offset_for_timestamp(1_700_000_000_100)[1] == 1_700_000_000_100
    foreign.close()

    out = dump_log(our_file)
    assert out.count("isvalid: true") == len(batches) and "isvalid: false" not in out
    assert out.count("| offset: ") == sent
    for name in CODECS:
        assert f"compresscodec: {name}" in out
