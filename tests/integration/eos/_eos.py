"""Helpers for the exactly-once tests: transactional producers and consumers that read a whole
topic at a chosen isolation level (markers never reach the application, whatever we do)."""
from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from tests.integration.broker._clients import create_topic, unique
from tests.reference import jvm

# create_topic and unique are the broker tests'; eos and tests/system import them from here
__all__ = ["committed", "compiled_java", "create_topic", "read_all", "txn_producer", "unique",
           "values"]

JAVA_DIR = Path(__file__).resolve().parent / "java"


def txn_producer(bootstrap: str, transactional_id: str, **extra: object) -> Producer:
    """A confluent-kafka transactional producer with its transactions initialised."""
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                  "linger.ms": 5, **extra})
    p.init_transactions(30)
    return p


def read_all(bootstrap: str, topic: str, partitions: int, isolation: str,
             timeout: float = 30.0) -> list:
    """Every record of `topic` visible at `isolation` ("read_committed"/"read_uncommitted"):
    reads each partition from 0 until end of partition (for read_committed, the LSO)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                  "isolation.level": isolation, "auto.offset.reset": "earliest",
                  "enable.partition.eof": True, "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out, eof = [], set()
        deadline = time.time() + timeout
        while len(eof) < partitions and time.time() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(msg.partition())
                    continue
                raise AssertionError(f"consumer error: {msg.error()}")
            eof.discard(msg.partition())
            out.append(msg)
        assert len(eof) == partitions, f"did not reach the end of {topic} in {timeout}s"
        return out
    finally:
        c.close()


def values(msgs: list) -> list[str]:
    return [m.value().decode() for m in msgs]


def committed(bootstrap: str, group: str, topic: str, partitions: int,
              timeout: float = 15) -> list[int] | None:
    """The group's committed offsets (-1001 for none), as a stable OffsetFetch answers; None
    when the broker keeps answering UNSTABLE_OFFSET_COMMIT (a transaction holds them)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        try:
            got = c.committed([TopicPartition(topic, p) for p in range(partitions)],
                              timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError._TIMED_OUT:
                return None
            raise
        return [tp.offset for tp in got]
    finally:
        c.close()


def compiled_java(main_class: str) -> Path:
    """The classes of java/<main_class>.java, compiled against the reference jars and cached in
    .cache under a hash of the source and Kafka's version, so only a change recompiles."""
    source = JAVA_DIR / f"{main_class}.java"
    digest = hashlib.sha256(source.read_bytes() + jvm.KAFKA_VERSION.encode()).hexdigest()[:16]
    target = jvm.CACHE / "eos-java" / f"{main_class}-{digest}"
    if not (target / f"{main_class}.class").exists():
        jvm.require_jars()
        scratch = target.with_name(target.name + ".tmp")
        scratch.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([jvm.javac(), "-nowarn", "-d", str(scratch), "-cp",
                                 jvm.CLASSPATH, str(source)], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr
        if not target.exists():
            scratch.rename(target)
    return target
