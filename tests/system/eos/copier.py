"""A consume-transform-produce copier (KIP-98/447 style, confluent-kafka): each poll batch is
transformed and produced, its input offsets are sent to the same transaction, and the
transaction commits. Run as a process so a test can SIGKILL it anywhere.

    python -m tests.system.eos.copier BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID PARTITIONS

Partitions are assigned manually (no rebalance wait after a kill); zombies are fenced by the
shared transactional.id, as in Kafka's original exactly-once copier pattern.

COPIER_TIMEOUT_MS shortens request/message timeouts (a proxy may hold a request). The
history-checked Jepsen-style run lives in tests/system/jepsen/."""
from __future__ import annotations

import os
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition


def transform(value: bytes) -> bytes:
    """The copier's function of an input: n -> "n:n*n" (so a result names its input)."""
    n = int(value)
    return f"{n}:{n * n}".encode()


def _commit(producer: Producer) -> None:
    """commit_transaction, retried while librdkafka says the error is retriable (the outcome
    is then still open and a retry finishes it)."""
    for _ in range(20):
        try:
            producer.commit_transaction(60)
            return
        except KafkaException as exc:
            if not exc.args[0].retriable():
                raise
    producer.commit_transaction(60)


def main(argv: list[str]) -> int:
    bootstrap, source, sink, group, tid, partitions = argv[:5] + [int(argv[5])]
    timeouts = {}
    if os.environ.get("COPIER_TIMEOUT_MS"):
        ms = os.environ["COPIER_TIMEOUT_MS"]
        timeouts = {"request.timeout.ms": ms, "message.timeout.ms": ms}
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": tid,
                         "linger.ms": 5, "transaction.timeout.ms": 10000, **timeouts})
    producer.init_transactions(60)  # fences the previous copier and aborts its transaction
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "isolation.level": "read_committed", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    tps = [TopicPartition(source, p) for p in range(partitions)]

    def rewind() -> None:
        committed = consumer.committed(tps, timeout=60)
        consumer.assign([TopicPartition(source, tp.partition,
                                        tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                         for tp in committed])
    rewind()
    print("ready", flush=True)
    while True:
        msgs = consumer.consume(500, 0.5)
        msgs = [m for m in msgs if not m.error()]
        if not msgs:
            continue
        try:
            producer.begin_transaction()
            next_offsets: dict[int, int] = {}
            for m in msgs:
                producer.produce(sink, key=m.key(), value=transform(m.value()),
                                 partition=m.partition())
                next_offsets[m.partition()] = m.offset() + 1
            producer.send_offsets_to_transaction(
                [TopicPartition(source, p, o) for p, o in next_offsets.items()],
                consumer.consumer_group_metadata(), 60)
            _commit(producer)
        except KafkaException as exc:
            err = exc.args[0]
            if err.txn_requires_abort():
                try:
                    producer.abort_transaction(60)
                except KafkaException as again:
                    print(f"abort failed: {again}", file=sys.stderr, flush=True)
                    return 3
                rewind()  # redo from the last committed offsets
                continue
            print(f"fatal: {err}", file=sys.stderr, flush=True)
            return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
