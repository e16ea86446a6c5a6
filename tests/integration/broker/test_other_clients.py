"""kafka-python and kcat, unmodified, against our broker."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.integration.broker._clients import create_topic, unique

pytestmark = pytest.mark.integration


def test_kafka_python_produce_consume_group(pystreams_broker):
    from kafka import KafkaConsumer, KafkaProducer
    bs = pystreams_broker.bootstrap_servers
    topic, group = unique("kp"), unique("kpg")
    create_topic(bs, topic, partitions=2)
    producer = KafkaProducer(bootstrap_servers=bs, compression_type="gzip", acks="all")
    for i in range(200):
        producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                      headers=[("i", str(i).encode())])
    producer.flush(15)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bs, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=8000)
    got = []
    for msg in consumer:
        got.append(msg)
        if len(got) == 200:
            break
    consumer.commit()
    consumer.close()
    assert sorted(int(m.value[1:]) for m in got) == list(range(200))
    assert all(m.key == b"k" + m.value[1:] and dict(m.headers)["i"] == m.value[1:] for m in got)
    # a new consumer of the same group starts at the committed offsets: nothing left to read
    again = KafkaConsumer(topic, bootstrap_servers=bs, group_id=group,
                          auto_offset_reset="earliest", consumer_timeout_ms=3000)
    assert list(again) == []
    again.close()


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by bootstrap (apt)")
def test_kcat_metadata_produce_consume(pystreams_broker):
    bs = pystreams_broker.bootstrap_servers
    topic = unique("kcat")
    create_topic(bs, topic, partitions=1)
    lines = "".join(f"k{i}:v{i}\n" for i in range(100))
    subprocess.run(["kcat", "-b", bs, "-P", "-t", topic, "-K:", "-z", "snappy"], input=lines.encode(),
                   check=True, timeout=30)
    out = subprocess.run(["kcat", "-b", bs, "-C", "-t", topic, "-e", "-q", "-f", "%k=%s@%o\n"],
                         check=True, timeout=30, capture_output=True).stdout.decode()
    assert out.splitlines() == [f"k{i}=v{i}@{i}" for i in range(100)]
    meta = subprocess.run(["kcat", "-b", bs, "-L", "-t", topic], check=True, timeout=30,
                          capture_output=True).stdout.decode()
    assert f'topic "{topic}" with 1 partitions' in meta
