"""The Java client (Apache Kafka 4.1.1's KafkaProducer/KafkaConsumer) against both brokers:
commit/abort visibility at both isolation levels, offsets counting markers, zombie fencing.
The Java source (java/TxnClient.java) is compiled once per change into .cache."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.integration.eos._eos import create_topic, unique
from tests.reference import jvm

pytestmark = pytest.mark.integration
SOURCE = Path(__file__).resolve().parent / "java" / "TxnClient.java"


def _compiled() -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes() + jvm.KAFKA_VERSION.encode()).hexdigest()[:16]
    target = jvm.CACHE / "eos-java" / digest
    if not (target / "TxnClient.class").exists():
        jvm.require_jars()
        scratch = target.with_name(target.name + ".tmp")
        scratch.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([jvm.javac(), "-nowarn", "-d", str(scratch), "-cp",
                                 jvm.CLASSPATH, str(SOURCE)], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr
        scratch.rename(target) if not target.exists() else None
    return target


def test_java_transactional_producer_and_consumers(kafka_broker):
    bs = kafka_broker.bootstrap_servers
    topic = unique("eos-java")
    create_topic(bs, topic, 1)
    command = jvm.java_command("TxnClient", bs, topic, unique("tx"),
                               extra_classpath=[_compiled()])
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
