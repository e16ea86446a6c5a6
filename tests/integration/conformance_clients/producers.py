"""The four clients of the conformance run, each producing N keyed records with headers to its
own 6-partition topic with its own compression codec, and the records they are expected to write.

Why one module: the group test checks every consumed record against `expected_record`, so the
producers and the checker must agree on the format in one place. Record i of client C has key
`C:i` (zero-padded), value `C|i|` plus a filler that varies the size, and headers
`client=C, seq=i` (kcat can only attach the same headers to every record: `client=kcat,
run=conformance`).
"""
from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tests.reference.tools import run_tool

#: client -> compression codec it produces with (four codecs, every one Kafka has).
CODECS = {"confluent": "lz4", "kafka-python": "gzip", "kcat": "snappy", "java": "zstd"}
#: Kafka's codec ids in a batch's attributes (bits 0-2).
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def key_of(client: str, i: int) -> bytes:
    return f"{client}:{i:06d}".encode()


def value_of(client: str, i: int) -> bytes:
    return f"{client}|{i}|".encode() + b"x" * (i % 37)


def headers_of(client: str, i: int) -> list[tuple[str, bytes]]:
    if client == "kcat":
        return [("client", b"kcat"), ("run", b"conformance")]
    return [("client", client.encode()), ("seq", str(i).encode())]


def parse_key(key: bytes) -> tuple[str, int]:
    client, _, seq = key.decode().rpartition(":")
    return client, int(seq)


@dataclass
class Produced:
    """What one client reported: records it was asked to write and the errors it saw."""

    client: str
    topic: str
    count: int
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def produce_confluent(servers: str, topic: str, n: int) -> list[str]:
    from confluent_kafka import Producer
    errors: list[str] = []

    def delivered(err, _msg) -> None:
        if err is not None:
            errors.append(str(err))

    producer = Producer({"bootstrap.servers": servers, "acks": "all", "linger.ms": 10,
                         "compression.type": CODECS["confluent"], "enable.idempotence": False,
                         "queue.buffering.max.messages": 200000})
    for i in range(n):
        producer.produce(topic, key=key_of("confluent", i), value=value_of("confluent", i),
                         headers=headers_of("confluent", i), on_delivery=delivered)
        if i % 10000 == 0:
            producer.poll(0)
    left = producer.flush(120)
    if left:
        errors.append(f"{left} records not delivered after flush")
    return errors


def produce_kafka_python(servers: str, topic: str, n: int) -> list[str]:
    from kafka import KafkaProducer
    errors: list[str] = []
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=10,
                             batch_size=64 * 1024, compression_type=CODECS["kafka-python"])
    try:
        for i in range(n):
            future = producer.send(topic, key=key_of("kafka-python", i),
                                   value=value_of("kafka-python", i),
                                   headers=headers_of("kafka-python", i))
            if i % 5000 == 0 or i == n - 1:  # one errback per few thousand is enough to notice
                future.add_errback(lambda exc: errors.append(repr(exc)))
        producer.flush(120)
    finally:
        producer.close(30)
    return errors


def _lines(client: str, n: int, line: Callable[[int], str]) -> str:
    return "".join(line(i) + "\n" for i in range(n))


def produce_kcat(servers: str, topic: str, n: int) -> list[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(_lines("kcat", n, lambda i: f"{key_of('kcat', i).decode()}\t"
                                            f"{value_of('kcat', i).decode()}"))
        f.flush()
        cmd = ["kcat", "-P", "-b", servers, "-t", topic, "-K", "\t", "-z", CODECS["kcat"],
               "-H", "client=kcat", "-H", "run=conformance", "-X", "acks=all",
               "-X", "linger.ms=10", "-l", f.name]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return [] if done.returncode == 0 else [f"kcat exit {done.returncode}: {done.stderr[-2000:]}"]


def produce_java(servers: str, topic: str, n: int) -> list[str]:
    # the console producer's line format with parse.headers: `h:v,h:v<TAB>key<TAB>value`
    text = _lines("java", n, lambda i: f"client:java,seq:{i}\t{key_of('java', i).decode()}\t"
                                       f"{value_of('java', i).decode()}")
    done = run_tool("kafka-console-producer", "--bootstrap-server", servers, "--topic", topic,
                    "--compression-codec", CODECS["java"], "--property", "parse.key=true",
                    "--property", "parse.headers=true", "--request-required-acks", "all",
                    input=text, timeout=300)
    return [] if done.returncode == 0 else [f"console producer exit {done.returncode}: "
                                            f"{done.stderr[-2000:]}"]


PRODUCERS: dict[str, Callable[[str, str, int], list[str]]] = {
    "confluent": produce_confluent, "kafka-python": produce_kafka_python,
    "kcat": produce_kcat, "java": produce_java}


def produce_all(servers: str, topics: dict[str, str], n: int) -> dict[str, Produced]:
    """Run the four producers at the same time (threads; kcat and Java are child processes)."""
    import time
    results = {client: Produced(client, topic, n) for client, topic in topics.items()}

    def run(client: str) -> None:
        started = time.monotonic()
        try:
            results[client].errors += PRODUCERS[client](servers, topics[client], n)
        except Exception as exc:  # reported by the test of that client, not lost in a thread
            results[client].errors.append(f"{type(exc).__name__}: {exc}")
        results[client].seconds = time.monotonic() - started

    threads = [threading.Thread(target=run, args=(c,), name=f"produce-{c}") for c in topics]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results

