"""The ceiling: a hand-written confluent-kafka consume-process-produce loop (issue 7's calibration).

Batch consume, msgspec decode/encode, state in a plain dict (no persistence, no changelog), no
per-message delivery callbacks; every commit interval: flush the producer, then commit the
consumed offsets (at-least-once). What any framework's overhead is measured against.
"""
from __future__ import annotations

import time

import msgspec
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from bench.streams.systems.common import parse_args, stop_event
from bench.streams.workloads import THRESHOLD, WINDOW_MS


class In(msgspec.Struct):
    id: int
    user: str
    word: str
    amount: float


class Out(msgspec.Struct):
    id: int
    user: str
    cents: int


def main() -> None:
    args = parse_args("handwritten")
    stop = stop_event()
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.app_id,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "enable.auto.offset.store": False,
                         # librdkafka waits fetch.queue.backoff.ms (1000) before fetching a partition whose
                         # prefetch queue was full (queued.min.messages): at 1M records that capped this loop at
                         # ~115k rec/s with the process mostly idle. pystreams' main consumer sets 50 ms; so does
                         # the ceiling it is measured against.
                         "fetch.queue.backoff.ms": 50})
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5, "batch.num.messages": 10_000,
                         "queue.buffering.max.messages": 1_000_000, "partitioner": "murmur2_random",
                         "delivery.report.only.error": True})
    consumer.subscribe([args.input])
    decode = msgspec.json.Decoder(In).decode
    encode = msgspec.json.Encoder().encode
    produce = producer.produce
    out = args.output
    workload = args.workload
    counts: dict[object, int] = {}
    offsets: dict[tuple[str, int], int] = {}
    interval = args.commit_interval_ms / 1000
    last_commit = time.monotonic()
    while not stop.is_set():
        batch = consumer.consume(1000, 0.1)
        for m in batch:
            if m.error() is not None:
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(m.error())
            doc = decode(m.value())
            ts = m.timestamp()[1]
            if workload == "stateless":
                if doc.amount >= THRESHOLD:
                    produce(out, encode(Out(doc.id, doc.user, int(doc.amount * 100))), doc.user, timestamp=ts)
            elif workload == "count":
                n = counts.get(doc.word, 0) + 1
                counts[doc.word] = n
                produce(out, n.to_bytes(8, "big"), doc.word, timestamp=ts)
            else:
                key = f"{doc.word}@{ts - ts % WINDOW_MS}"
                n = counts.get(key, 0) + 1
                counts[key] = n
                produce(out, n.to_bytes(8, "big"), key, timestamp=ts)
        if batch:
            for m in batch:  # per batch, not per record: the last offset of each partition wins
                offsets[(m.topic(), m.partition())] = m.offset() + 1
            producer.poll(0)
        now = time.monotonic()
        if offsets and now - last_commit >= interval:
            producer.flush()
            consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                            asynchronous=False)
            offsets.clear()
            last_commit = now
    producer.flush(30)
    if offsets:
        consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
    consumer.close()


if __name__ == "__main__":
    main()
