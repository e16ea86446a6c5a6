"""How long an idle stream thread's output takes to be acknowledged after a burst of produce() calls, with
librdkafka's flush held open once for 5 ms and then a 100 ms wait (the idle path before 9e4c423), or in 5 ms slices
until the producer is empty (since 9e4c423). Not a test; a measuring tool for docs/benchmarks.md.

    .venv/bin/python -m bench.streams.idle_send_probe [--records 34000] [--rounds 3]

An embedded pystreams broker, one 3-partition topic, a non-idempotent producer with linger.ms 100 (Kafka Streams'
default), 40-byte values with 1,000 distinct keys."""
from __future__ import annotations

import argparse
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams.broker import EmbeddedBroker
from pystreams.runtime.streams_producer import IDLE_SEND_WAIT_S

POLL_WAIT_S = 0.1  # poll.ms: the blocking consumer poll that followed the one slice


def _acknowledged_after(producer: Producer, records: int, sliced: bool) -> tuple[float, float]:
    """(produce() calls took, everything acknowledged after the first produce()), in ms."""
    began = time.monotonic()
    for i in range(records):
        producer.produce("t", b"v" * 40, key=str(i % 1000).encode(), partition=i % 3)
    produced = time.monotonic() - began
    producer.flush(IDLE_SEND_WAIT_S)
    while len(producer):
        if not sliced:
            time.sleep(POLL_WAIT_S)  # the consumer poll: nothing calls into the producer meanwhile
        producer.flush(IDLE_SEND_WAIT_S)
    return produced * 1000, (time.monotonic() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=34_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        admin.create_topics([NewTopic("t", 3, 1)])["t"].result(10)
        for _ in range(args.rounds):
            for sliced in (False, True):
                producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 100,
                                     "enable.idempotence": False})
                producer.produce("t", b"warm-up")
                producer.flush(10)
                produced, acked = _acknowledged_after(producer, args.records, sliced)
                label = "5 ms slices until empty" if sliced else "one 5 ms slice, then 100 ms waits"
                print(f"{label:36} produce() calls {produced:5.0f} ms, all acknowledged {acked:5.0f} ms after the "
                      f"first produce()", flush=True)


if __name__ == "__main__":
    main()
