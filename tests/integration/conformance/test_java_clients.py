"""Kafka's own Java clients against every broker in `kafka_broker`: the console producer and
consumer (keys, headers, null values) and the admin tools, with the same assertions for the
reference Apache Kafka and for ours."""
from __future__ import annotations

import pytest

from tests.fixtures.reference_kafka import Broker
from tests.reference.tools import run_tool

pytestmark = [pytest.mark.integration, pytest.mark.reference]

N = 1000


def test_java_console_producer_and_consumer_keys_headers_and_nulls(kafka_broker: Broker,
                                                                   unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    created = run_tool("kafka-topics", "--bootstrap-server", servers, "--create",
                       "--topic", unique_topic, "--partitions", "1")
    assert created.returncode == 0, created.stderr
    lines = [f"seq:{i},kind:{'even' if i % 2 == 0 else 'odd'}\tkey-{i % 10}\t"
             + ("NULL" if i % 100 == 7 else f"value-{i}") for i in range(N)]
    produced = run_tool("kafka-console-producer", "--bootstrap-server", servers,
                        "--topic", unique_topic, "--property", "parse.key=true",
                        "--property", "parse.headers=true", "--property", "null.marker=NULL",
                        input="\n".join(lines) + "\n")
    assert produced.returncode == 0, produced.stderr

    consumed = run_tool("kafka-console-consumer", "--bootstrap-server", servers,
                        "--topic", unique_topic, "--from-beginning", "--max-messages", str(N),
                        "--timeout-ms", "30000", "--property", "print.key=true",
                        "--property", "print.headers=true", "--property", "null.literal=NULL")
    assert consumed.returncode == 0, consumed.stderr
    # the default formatter prints headers, key and value separated by tabs, in that order
    assert consumed.stdout.splitlines() == lines


def test_java_topics_tool_creates_describes_and_deletes(kafka_broker: Broker,
                                                        unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    created = run_tool("kafka-topics", "--bootstrap-server", servers, "--create",
                       "--topic", unique_topic, "--partitions", "3",
                       "--config", "cleanup.policy=compact")
    assert created.returncode == 0, created.stderr
    assert f"Created topic {unique_topic}." in created.stdout

    again = run_tool("kafka-topics", "--bootstrap-server", servers, "--create",
                     "--topic", unique_topic, "--partitions", "3")
    assert again.returncode != 0
    assert "TopicExistsException" in again.stderr + again.stdout

    listed = run_tool("kafka-topics", "--bootstrap-server", servers, "--list")
    assert listed.returncode == 0, listed.stderr
    assert unique_topic in listed.stdout.split()

    described = run_tool("kafka-topics", "--bootstrap-server", servers, "--describe",
                         "--topic", unique_topic)
    assert described.returncode == 0, described.stderr
    assert "PartitionCount: 3" in described.stdout
    assert "cleanup.policy=compact" in described.stdout
    partitions = [line for line in described.stdout.splitlines() if "Partition: " in line]
    assert [line.split("Partition: ")[1].split()[0] for line in partitions] == ["0", "1", "2"]

    deleted = run_tool("kafka-topics", "--bootstrap-server", servers, "--delete",
                       "--topic", unique_topic)
    assert deleted.returncode == 0, deleted.stderr
    listed = run_tool("kafka-topics", "--bootstrap-server", servers, "--list")
    assert unique_topic not in listed.stdout.split()
