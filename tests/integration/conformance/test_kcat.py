"""kcat (librdkafka's command-line client, a Debian package `make setup` installs) against every
broker in `kafka_broker`: produce keyed records with headers, consume them back formatted, and
read the cluster metadata as JSON."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.fixtures.reference_kafka import Broker

pytestmark = pytest.mark.integration

KCAT = shutil.which("kcat") or "kcat"
N = 500


def kcat(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KCAT, *args], input=input, capture_output=True, text=True, timeout=60)


def test_kcat_produce_and_consume_with_keys_and_headers(kafka_broker: Broker,
                                                        unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    lines = [f"key-{i % 7}\tvalue-{i}" for i in range(N)]
    produced = kcat("-b", servers, "-P", "-t", unique_topic, "-K", "\t", "-H", "origin=kcat",
                    "-X", "topic.request.required.acks=all", input="\n".join(lines) + "\n")
    assert produced.returncode == 0, produced.stderr

    consumed = kcat("-b", servers, "-C", "-t", unique_topic, "-o", "beginning", "-e",
                    "-c", str(N), "-f", "%k\t%s\t%h\t%p:%o\n")
    assert consumed.returncode == 0, consumed.stderr
    rows = [line.split("\t") for line in consumed.stdout.splitlines()]
    assert [f"{k}\t{v}" for k, v, _, _ in rows] == lines  # one partition (auto-created topic)
    assert {h for _, _, h, _ in rows} == {"origin=kcat"}
    assert [p for _, _, _, p in rows] == [f"0:{i}" for i in range(N)]


def test_kcat_metadata_lists_broker_and_topic(kafka_broker: Broker, unique_topic: str) -> None:
    servers = kafka_broker.bootstrap_servers
    produced = kcat("-b", servers, "-P", "-t", unique_topic, input="x\n")
    assert produced.returncode == 0, produced.stderr
    listed = kcat("-b", servers, "-L", "-J", "-t", unique_topic)
    assert listed.returncode == 0, listed.stderr
    metadata = json.loads(listed.stdout)
    assert [broker["name"] for broker in metadata["brokers"]] == [servers]
    [topic] = metadata["topics"]
    assert topic["topic"] == unique_topic and len(topic["partitions"]) == 1
    assert topic["partitions"][0]["leader"] == metadata["brokers"][0]["id"]
