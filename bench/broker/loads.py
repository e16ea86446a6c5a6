"""The loads of a bench run, each returning MB/s (and produce latency percentiles in ms):
Kafka's Java perf tools (kafka-producer-perf-test / kafka-consumer-perf-test) and a
confluent-kafka producer and consumer. 1 MB = 1,000,000 bytes of record values, as the Java
tools count (their "MB" is 1024*1024: converted below so every row uses the same unit)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.reference.tools import run_tool

MIB = 1024 * 1024


@dataclass
class Result:
    mb_per_s: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    note: str = ""


class BenchError(RuntimeError):
    """A load failed (tool exit code, or fewer records than asked)."""


def create_topic(servers: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": servers})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(60)
    time.sleep(0.5)  # let metadata settle on both brokers before a tool asks for it


# "200000 records sent, 51234.5 records/sec (50.03 MB/sec), 12.3 ms avg latency, 345.0 ms max
#  latency, 10 ms 50th, 40 ms 95th, 120 ms 99th, 300 ms 99.9th."
_PERF_LINE = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\).*?"
                        r"(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th")


def java_produce(servers: str, topic: str, records: int, size: int, acks: str) -> Result:
    done = run_tool("kafka-producer-perf-test", "--topic", topic, "--num-records", str(records),
                    "--record-size", str(size), "--throughput", "-1", "--producer-props",
                    f"bootstrap.servers={servers}", f"acks={acks}", "linger.ms=5",
                    "batch.size=65536", timeout=900)
    found = _PERF_LINE.findall(done.stdout)
    if done.returncode != 0 or not found:
        raise BenchError(f"producer perf test failed ({done.returncode}): "
                         f"{(done.stdout + done.stderr)[-1500:]}")
    sent, _, mib_s, p50, _, p99 = found[-1]
    if int(sent) != records:
        raise BenchError(f"producer perf test sent {sent} of {records}")
    return Result(float(mib_s) * MIB / 1e6, float(p50), float(p99))


def java_consume(servers: str, topic: str, records: int) -> Result:
    done = run_tool("kafka-consumer-perf-test", "--bootstrap-server", servers, "--topic", topic,
                    "--messages", str(records), "--timeout", "60000", timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or len(lines) < 2:
        raise BenchError(f"consumer perf test failed ({done.returncode}): "
                         f"{(done.stdout + done.stderr)[-1500:]}")
    header = [h.strip() for h in lines[0].split(",")]
    row = dict(zip(header, (v.strip() for v in lines[-1].split(","))))
    if int(row["data.consumed.in.nMsg"]) < records:
        raise BenchError(f"consumer perf test read {row['data.consumed.in.nMsg']} of {records}")
    # fetch.MB.sec leaves out the group join, which is not fetch speed
    return Result(float(row["fetch.MB.sec"]) * MIB / 1e6,
                  note=f"end-to-end {float(row['MB.sec']) * MIB / 1e6:.1f} MB/s")


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def confluent_produce(servers: str, topic: str, records: int, size: int, acks: str) -> Result:
    latencies: list[float] = []
    errors: list[str] = []
    clock = time.perf_counter

    def on_delivery_for(sent: float):
        def on_delivery(err, _msg) -> None:
            latencies.append(clock() - sent)
            if err is not None:
                errors.append(str(err))
        return on_delivery

    producer = Producer({"bootstrap.servers": servers, "acks": acks, "linger.ms": 5,
                         "batch.size": 65536, "enable.idempotence": False,
                         "queue.buffering.max.messages": 500000,
                         "queue.buffering.max.kbytes": 1 << 20})
    value = b"x" * size
    start = clock()
    for i in range(records):
        sent = clock()
        while True:
            try:
                producer.produce(topic, value, on_delivery=on_delivery_for(sent))
                break
            except BufferError:
                producer.poll(0.01)
        if i % 1000 == 0:
            producer.poll(0)
    if producer.flush(300):
        raise BenchError("confluent producer could not deliver everything")
    elapsed = clock() - start
    if errors:
        raise BenchError(f"confluent producer: {errors[:3]}")
    latencies.sort()
    return Result(records * size / elapsed / 1e6, _percentile(latencies, 0.5) * 1000,
                  _percentile(latencies, 0.99) * 1000)


def confluent_consume(servers: str, topic: str, records: int, partitions: int) -> Result:
    consumer = Consumer({"bootstrap.servers": servers, "group.id": f"bench-{topic}",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        got = size = 0
        start = None
        deadline = time.monotonic() + 300
        while got < records and time.monotonic() < deadline:
            for m in consumer.consume(10000, timeout=0.5):
                if m.error() is not None:
                    raise BenchError(f"confluent consumer: {m.error()}")
                if start is None:
                    start = time.perf_counter()  # from the first record: fetch, not connect
                got += 1
                size += len(m.value())
        if got < records or start is None:
            raise BenchError(f"confluent consumer read {got} of {records}")
        return Result(size / (time.perf_counter() - start) / 1e6)
    finally:
        consumer.close()
