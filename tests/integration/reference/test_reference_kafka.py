"""The reference Apache Kafka works with both client stacks we compare against: 10,000 keyed
records from confluent-kafka read back by Kafka's Java console consumer, and 10,000 from the Java
console producer read back by confluent-kafka (issue 2's acceptance)."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.reference.kafka import ReferenceKafka
from tests.reference.tools import run_tool

pytestmark = [pytest.mark.integration, pytest.mark.reference]

N = 10_000
PARTITIONS = 3


def create_topic(servers: str, topic: str, partitions: int = PARTITIONS) -> None:
    admin = AdminClient({"bootstrap.servers": servers})  # must outlive the future
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                            replication_factor=1)])
    futures[topic].result(30)


def expected_records(tag: str) -> dict[str, str]:
    return {f"{tag}-key-{i:05d}": f"{tag}-value-{i}-{'x' * (i % 37)}" for i in range(N)}


def test_confluent_kafka_to_java_console_consumer(reference_kafka: ReferenceKafka,
                                                  unique_topic: str) -> None:
    servers = reference_kafka.bootstrap_servers
    create_topic(servers, unique_topic)
    sent = expected_records("ck")
    producer = Producer({"bootstrap.servers": servers, "linger.ms": 5, "acks": "all"})
    failures: list[str] = []
    for key, value in sent.items():
        producer.produce(unique_topic, key=key, value=value,
                         on_delivery=lambda err, _msg: err and failures.append(str(err)))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []

    result = run_tool("kafka-console-consumer", "--bootstrap-server", servers,
                      "--topic", unique_topic, "--from-beginning", "--max-messages", str(N),
                      "--timeout-ms", "30000", "--property", "print.key=true",
                      "--property", "key.separator=\t", timeout=90)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    received = dict(line.split("\t", 1) for line in lines)
    assert len(lines) == N
    assert received == sent
    assert f"Processed a total of {N} messages" in result.stderr


def test_java_console_producer_to_confluent_kafka(reference_kafka: ReferenceKafka,
                                                  unique_topic: str) -> None:
    servers = reference_kafka.bootstrap_servers
    create_topic(servers, unique_topic)
    sent = expected_records("java")
    result = run_tool("kafka-console-producer", "--bootstrap-server", servers,
                      "--topic", unique_topic, "--property", "parse.key=true",
                      "--property", "key.separator=\t",
                      input="".join(f"{k}\t{v}\n" for k, v in sent.items()), timeout=90)
    assert result.returncode == 0, result.stderr

    consumer = Consumer({"bootstrap.servers": servers, "group.id": unique_topic,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    received: dict[str, str] = {}
    partitions: set[int] = set()
    try:
        consumer.subscribe([unique_topic])
        deadline = time.monotonic() + 60
        while len(received) < N and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=1.0):
                assert message.error() is None, message.error()
                received[message.key().decode()] = message.value().decode()
                partitions.add(message.partition())
    finally:
        consumer.close()
    assert received == sent
    # the Java producer's default partitioner spread the keyed records over all partitions
    assert partitions == set(range(PARTITIONS))


def test_java_admin_tools_see_the_topic_and_the_log(reference_kafka: ReferenceKafka,
                                                    unique_topic: str) -> None:
    servers = reference_kafka.bootstrap_servers
    created = run_tool("kafka-topics", "--bootstrap-server", servers, "--create",
                       "--topic", unique_topic, "--partitions", "2")
    assert created.returncode == 0, created.stderr
    producer = Producer({"bootstrap.servers": servers})
    for i in range(10):
        producer.produce(unique_topic, key=b"k", value=f"v{i}".encode(), partition=1)
    assert producer.flush(30) == 0

    described = run_tool("kafka-topics", "--bootstrap-server", servers, "--describe",
                         "--topic", unique_topic)
    assert described.returncode == 0, described.stderr
    assert f"Topic: {unique_topic}" in described.stdout and "PartitionCount: 2" in described.stdout

    offsets = run_tool("kafka-get-offsets", "--bootstrap-server", servers, "--topic", unique_topic)
    assert offsets.returncode == 0, offsets.stderr
    assert sorted(offsets.stdout.split()) == [f"{unique_topic}:0:0", f"{unique_topic}:1:10"]

    segment = reference_kafka.data_dir / f"{unique_topic}-1" / "00000000000000000000.log"
    dumped = run_tool("kafka-dump-log", "--files", str(segment), "--print-data-log")
    assert dumped.returncode == 0, dumped.stderr
    payloads = [line.split("payload: ")[1] for line in dumped.stdout.splitlines()
                if "payload: " in line]
    assert payloads == [f"v{i}" for i in range(10)]


def test_command_line_broker_serves_until_interrupted() -> None:
    """`python -m tests.reference.kafka` (scripts/reference.sh kafka, bench/) prints where it
    listens, serves clients, and on Ctrl-C stops the JVM and removes its data dir."""
    root = Path(__file__).resolve().parents[3]
    process = subprocess.Popen([sys.executable, "-m", "tests.reference.kafka"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("log: "):
                break
        printed = "".join(lines)
        servers = re.search(r"bootstrap servers: (127\.0\.0\.1:\d+)", printed)
        data_dir = re.search(r"log: (\S+)/server\.log", printed)
        assert servers and data_dir and "ready in" in printed, printed
        metadata = AdminClient({"bootstrap.servers": servers[1]}).list_topics(timeout=10)
        assert list(metadata.brokers) == [1]
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        assert not Path(data_dir[1]).exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_perf_tools_and_consumer_groups_tool(reference_kafka: ReferenceKafka,
                                             unique_topic: str) -> None:
    """The tools bench/ relies on: producer and consumer perf tests, and the group tool seeing
    the perf consumer's committed offsets."""
    servers = reference_kafka.bootstrap_servers
    create_topic(servers, unique_topic, partitions=1)
    produced = run_tool("kafka-producer-perf-test", "--topic", unique_topic,
                        "--num-records", "2000", "--record-size", "100", "--throughput", "-1",
                        "--producer-props", f"bootstrap.servers={servers}", "acks=all")
    assert produced.returncode == 0, produced.stderr
    assert re.search(r"^2000 records sent", produced.stdout, re.M), produced.stdout

    group = f"{unique_topic}-perf"
    consumed = run_tool("kafka-consumer-perf-test", "--bootstrap-server", servers,
                        "--topic", unique_topic, "--messages", "2000", "--group", group,
                        "--hide-header", "--timeout", "30000")
    assert consumed.returncode == 0, consumed.stderr
    # CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, ...
    fields = consumed.stdout.strip().splitlines()[-1].split(", ")
    assert int(fields[4]) == 2000, consumed.stdout

    described = run_tool("kafka-consumer-groups", "--bootstrap-server", servers, "--describe",
                         "--group", group)
    assert described.returncode == 0, described.stderr
    rows = [line.split() for line in described.stdout.splitlines() if unique_topic in line]
    assert len(rows) == 1, described.stdout
    header = next(line.split() for line in described.stdout.splitlines() if "LAG" in line)
    row = dict(zip(header, rows[0]))
    assert (row["CURRENT-OFFSET"], row["LOG-END-OFFSET"], row["LAG"]) == ("2000", "2000", "0")
