"""The Java client (Apache Kafka 4.1.1's KafkaProducer/KafkaConsumer) against both brokers:
commit/abort visibility at both isolation levels, offsets counting markers, zombie fencing.
The Java source (java/TxnClient.java) is compiled once per change into .cache."""
from __future__ import annotations

import subprocess

import pytest

from tests.integration.eos._eos import compiled_java, create_topic, unique
from tests.reference import jvm

pytestmark = pytest.mark.integration


def test_java_transactional_producer_and_consumers(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("eos-java")
    create_topic(bs, topic, 1)
    command = jvm.java_command("TxnClient", bs, topic, unique("tx"),
                               extra_classpath=[compiled_java("TxnClient")])
    result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
    assert lines["zombie"] == "fenced"
    # offsets: 3 records + marker per transaction; the zombie's records sit before the
    # successor's and are aborted by the fence (its marker follows them)
    assert lines["read_committed"].split(",") == [
        "0:commit-0-0", "1:commit-0-1", "2:commit-0-2",
        "8:commit-2-0", "9:commit-2-1", "10:commit-2-2", "14:successor"]
    assert lines["read_uncommitted"].split(",") == [
        "0:commit-0-0", "1:commit-0-1", "2:commit-0-2",
        "4:abort-1-0", "5:abort-1-1", "6:abort-1-2",
        "8:commit-2-0", "9:commit-2-1", "10:commit-2-2", "12:zombie", "14:successor"]
