"""Kafka's own DumpLogSegments --offsets-decoder reads what our coordinator writes to
`__consumer_offsets`: the record keys and values are Kafka's formats."""
from __future__ import annotations

import subprocess

import pytest
from confluent_kafka import Consumer, TopicPartition

from pystreams.broker.coordinator.service import partition_for

from tests.integration.broker._clients import create_topic, unique

pytestmark = [pytest.mark.integration, pytest.mark.reference]


def test_dump_log_decodes_our_offset_commits(pystreams_broker_factory, tmp_path):
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    broker = pystreams_broker_factory(tmp_path / "data")
    topic, group = unique("fmt"), unique("fmt-g")
    create_topic(broker.bootstrap_servers, topic)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": group})
    consumer.commit(offsets=[TopicPartition(topic, 0, 42, "meta")], asynchronous=False)
    consumer.close()
    assert broker.stop() == 0
    segment = tmp_path / "data" / f"__consumer_offsets-{partition_for(group, 50)}" / \
        "00000000000000000000.log"
    out = subprocess.run(jvm.java_command("kafka.tools.DumpLogSegments", "--files", str(segment),
                                          "--offsets-decoder"),
                         capture_output=True, timeout=120, check=True).stdout.decode()
    assert f'"group":"{group}","topic":"{topic}","partition":0' in out
    # (confluent-kafka sends the metadata with its C string's NUL, so Kafka stores "meta\\u0000")
    assert '"offset":42' in out and '"metadata":"meta' in out
    assert "isvalid: true" in out and "isvalid: false" not in out
