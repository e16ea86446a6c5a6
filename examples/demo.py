"""`make demo`: word count end to end on the embedded pystreams broker.

Starts the embedded broker (a child process on a free 127.0.0.1 port, temp data dir), produces
lines of text with confluent-kafka, reads them back from the broker, runs them through the word-count
topology of examples/wordcount.py and prints the topology and the final counts.

The streams runtime (`pystreams run`, issue 7) is not there yet, so the topology runs in the
in-process TopologyTestDriver over the records consumed from the broker.
"""
from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams import Serdes
from pystreams.broker import EmbeddedBroker
from pystreams.testing import TopologyTestDriver

from examples.wordcount import topology

LINES = [
    "all streams lead to kafka",
    "hello kafka streams",
    "join kafka summit",
    "streams of python and kafka",
]


def produce(bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("text-input", num_partitions=3, replication_factor=1)])["text-input"].result(10)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for number, line in enumerate(LINES):
        producer.produce("text-input", key=f"line-{number}".encode(), value=line.encode())
    assert producer.flush(10) == 0, "not every line was acknowledged by the broker"


def consume(bootstrap: str, expected: int) -> list[tuple[str, str, int]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "demo",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["text-input"])
    records: list[tuple[str, str, int]] = []
    deadline = time.monotonic() + 30
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=100, timeout=0.5):
                if message.error():
                    raise RuntimeError(f"consume failed: {message.error()}")
                records.append((message.key().decode(), message.value().decode(),
                                message.timestamp()[1]))
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    if len(records) != expected:
        raise RuntimeError(f"read {len(records)} of {expected} lines back from the broker")
    return records


def main() -> None:
    print(topology.describe())
    started = time.monotonic()
    with EmbeddedBroker() as broker:
        print(f"embedded broker at {broker.bootstrap_servers} "
              f"(started in {time.monotonic() - started:.1f} s, data in {broker.data_dir})")
        produce(broker.bootstrap_servers)
        records = consume(broker.bootstrap_servers, len(LINES))
        print(f"read {len(records)} lines back from the broker")
    counts: dict[str, int] = {}
    with TopologyTestDriver(topology, {"application.id": "wordcount-demo"}) as driver:
        text = driver.create_input_topic("text-input", Serdes.String(), Serdes.String())
        out = driver.create_output_topic("word-counts-output", Serdes.String(), Serdes.Long())
        for key, line, timestamp in sorted(records, key=lambda r: r[2]):
            text.pipe_input(key, line, timestamp)
        counts = out.read_key_values_to_map()
    print("word counts:")
    for word, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {word:10} {count}")


if __name__ == "__main__":
    main()
