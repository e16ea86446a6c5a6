"""Helpers shared by the broker integration tests: topic creation and draining consumers."""
from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.admin import AdminClient, NewTopic


def unique(prefix: str) -> str:
    """A topic or group name no other test uses (the session broker is shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topic(bootstrap: str, name: str, partitions: int = 1, config: dict | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})],
                                  operation_timeout=10)
    futures[name].result(timeout=15)


def drain(consumer: Consumer, expected: int, timeout: float = 30.0) -> list:
    """Poll until `expected` messages arrived (or the timeout); errors fail loudly."""
    out = []
    deadline = time.time() + timeout
    while len(out) < expected and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise AssertionError(f"consumer error: {msg.error()}")
        out.append(msg)
    return out
