"""Issue 3's conformance run at full scale, the same assertions against Apache Kafka and ours:
confluent-kafka, kafka-python, kcat and the Java console producer each write N = 100,000 keyed
records with headers to their own 6-partition topic (lz4, gzip, snappy, zstd), all four at the
same time; then a 3-member confluent-kafka consumer group reads the four topics, committing
after every batch, one member leaves half way, and the other two finish from the committed
offsets. Every record must arrive with its key, value and headers, exactly once, except records
whose commit failed in a rebalance (those may come twice, nothing else may).

Why one production shared by the group test: 4 x 100k records per broker is the issue's scale;
producing them once per broker (in parallel) keeps the module at about a minute per broker.
`PYSTREAMS_CONFORMANCE_RECORDS` overrides N for a quick local run.
"""
from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from typing import Iterator

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.conformance_clients.producers import (
    CODEC_IDS, CODECS, Produced, headers_of, parse_key, produce_all, value_of)
from tests.integration.conformance_clients.wire import Wire

# reference: the Java console producer runs against both brokers
pytestmark = [pytest.mark.integration, pytest.mark.reference, pytest.mark.slow]

N = int(os.environ.get("PYSTREAMS_CONFORMANCE_RECORDS", "100000"))
PARTITIONS = 6
CLIENTS = tuple(CODECS)


class Run:
    """One broker's production: where it went and what each client reported."""

    def __init__(self, name: str, servers: str, topics: dict[str, str],
                 produced: dict[str, Produced], seconds: float) -> None:
        self.name, self.servers, self.topics = name, servers, topics
        self.produced, self.seconds = produced, seconds


@pytest.fixture(scope="module", params=[
    pytest.param("reference", id="reference", marks=pytest.mark.reference),
    pytest.param("pystreams", id="pystreams")])
def production(request: pytest.FixtureRequest) -> Iterator[Run]:
    """The four clients' records on this broker (the `kafka_broker` params, module scope)."""
    broker = request.getfixturevalue(
        "reference_kafka" if request.param == "reference" else "pystreams_broker")
    servers = broker.bootstrap_servers
    run = uuid.uuid4().hex[:8]
    topics = {client: f"four-clients-{client}-{run}" for client in CLIENTS}
    admin = AdminClient({"bootstrap.servers": servers})
    for future in admin.create_topics([NewTopic(t, PARTITIONS, 1)
                                       for t in topics.values()]).values():
        future.result(30)
    started = time.monotonic()
    produced = produce_all(servers, topics, N)
    seconds = time.monotonic() - started
    print(f"\n[{request.param}] 4 x {N} records produced in {seconds:.1f} s: "
          + ", ".join(f"{c} {p.seconds:.1f} s" for c, p in produced.items()))
    yield Run(request.param, servers, topics, produced, seconds)


def _watermarks(servers: str, topic: str) -> list[tuple[int, int]]:
    c = Consumer({"bootstrap.servers": servers, "group.id": f"wm-{uuid.uuid4().hex[:6]}"})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                for p in range(PARTITIONS)]
    finally:
        c.close()


def _records_by_codec(servers: str, topic: str) -> dict[int, int]:
    """codec id -> records, over the first 256 KiB stored in each partition (raw Fetch; the
    clients may leave a batch uncompressed when compressing would not make it smaller)."""
    counts: dict[int, int] = defaultdict(int)
    with Wire(servers) as w:
        answer = w.request(1, 12, {
            "replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 8 << 20,
            "isolation_level": 0, "session_id": 0, "session_epoch": -1,
            "topics": [{"topic": topic, "partitions": [
                {"partition": p, "fetch_offset": 0, "partition_max_bytes": 256 << 10}
                for p in range(PARTITIONS)]}], "forgotten_topics_data": []})
        for part in answer["responses"][0]["partitions"]:
            data = bytes(part["records"] or b"")
            pos = 0
            while pos + 61 <= len(data):  # v2 batch: length @8, attributes @21, count @57
                size = 12 + int.from_bytes(data[pos + 8:pos + 12], "big")
                if pos + size > len(data):
                    break
                codec = int.from_bytes(data[pos + 21:pos + 23], "big") & 0x7
                counts[codec] += int.from_bytes(data[pos + 57:pos + 61], "big")
                pos += size
    return dict(counts)


@pytest.mark.parametrize("client", CLIENTS)
def test_client_produces_100k_keyed_records_with_headers(production: Run, client: str) -> None:
    result = production.produced[client]
    assert result.errors == [], f"{client} reported errors producing: {result.errors[:3]}"
    marks = _watermarks(production.servers, production.topics[client])
    assert sum(high - low for low, high in marks) == N
    assert all(high > 0 for _, high in marks), f"keys did not spread over 6 partitions: {marks}"
    by_codec = _records_by_codec(production.servers, production.topics[client])
    codec = CODEC_IDS[CODECS[client]]
    assert set(by_codec) <= {codec, 0}, by_codec
    assert by_codec.get(codec, 0) > sum(by_codec.values()) // 2, by_codec


def _consumer(servers: str, group: str, name: str) -> Consumer:
    return Consumer({"bootstrap.servers": servers, "group.id": group, "client.id": name,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                     "fetch.wait.max.ms": 100})


class Reader:
    """Drives the group members from one thread and books every record and commit."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, int], int] = defaultdict(int)  # (client, seq) -> times read
        self.uncommitted: set[tuple[str, int]] = set()  # read but the commit failed
        self.by_member: dict[str, int] = defaultdict(int)
        self.bad: list[str] = []
        self.first_offset_after_leave: dict[tuple[str, int], int] = {}
        self.leave_done = False

    def poll(self, name: str, c: Consumer) -> None:
        messages = c.consume(2000, timeout=0.05)
        if not messages:
            return
        ends: dict[tuple[str, int], int] = {}
        batch = []
        for m in messages:
            if m.error() is not None:
                self.bad.append(f"{name}: {m.error()}")
                continue
            client, seq = parse_key(m.key())
            if m.value() != value_of(client, seq) or \
                    list(m.headers() or []) != headers_of(client, seq):
                self.bad.append(f"{client}:{seq} arrived as {m.value()!r} {m.headers()!r}")
            tp = (m.topic(), m.partition())
            if self.leave_done and tp not in self.first_offset_after_leave:
                self.first_offset_after_leave[tp] = m.offset()
            ends[tp] = m.offset() + 1
            batch.append((client, seq))
        for record in batch:
            self.seen[record] += 1
        self.by_member[name] += len(batch)
        try:
            c.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in ends.items()],
                     asynchronous=False)
        except KafkaException:  # e.g. a rebalance took the partitions: may be read again
            self.uncommitted.update(batch)


def test_group_reads_every_record_once_and_resumes_after_a_member_leaves(
        production: Run) -> None:
    total = N * len(CLIENTS)
    topics = list(production.topics.values())
    group = f"four-clients-group-{uuid.uuid4().hex[:8]}"
    members = {name: _consumer(production.servers, group, name) for name in ("a", "b", "c")}
    reader = Reader()
    try:
        for c in members.values():
            c.subscribe(topics)
        # phase 1: three members share the 24 partitions and read a third of the records
        everything = {(t, p) for t in topics for p in range(PARTITIONS)}

        def owned() -> dict[str, set[tuple[str, int]]]:
            return {n: {(tp.topic, tp.partition) for tp in c.assignment()}
                    for n, c in members.items()}

        def stable() -> bool:  # every member owns partitions and together exactly all of them
            now = owned()
            return all(now.values()) and set().union(*now.values()) == everything and \
                sum(map(len, now.values())) == len(everything)

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
                len(reader.seen) < total // 3 or min(reader.by_member[n] for n in members) == 0
                or not stable()):
            for name, c in members.items():
                reader.poll(name, c)
        assert all(reader.by_member[n] > 0 for n in members), dict(reader.by_member)
        assignments = owned()
        assert stable(), f"the three members do not share the partitions: {assignments}"

        # phase 2: "c" leaves; "a" and "b" take over its partitions from its commits
        leaver = members.pop("c")
        try:
            left_partitions = [TopicPartition(t, p) for t, p in assignments["c"]]
            committed = {(tp.topic, tp.partition): tp.offset
                         for tp in leaver.committed(left_partitions, timeout=10)}
        finally:
            leaver.close()
        reader.leave_done = True

        def covered() -> bool:  # the survivors' rebalance has completed
            return set().union(*owned().values()) == everything

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and (len(reader.seen) < total or not covered()):
            for name, c in members.items():
                reader.poll(name, c)

        assert reader.bad == [], reader.bad[:5]
        missing = total - len(reader.seen)
        assert missing == 0, f"{missing} of {total} records never arrived"
        twice = {r for r, n in reader.seen.items() if n > 1}
        assert twice <= reader.uncommitted, \
            f"{len(twice - reader.uncommitted)} committed records were read again"
        survivors = {n: {(tp.topic, tp.partition) for tp in c.assignment()}
                     for n, c in members.items()}
        assert survivors["a"] | survivors["b"] == everything
        assert not survivors["a"] & survivors["b"]
        for tp, offset in committed.items():  # resumed exactly where the leaver committed
            if tp in reader.first_offset_after_leave:
                assert reader.first_offset_after_leave[tp] == (offset if offset >= 0 else 0), tp
        # every partition's committed offset is its end: all commits landed
        probe = next(iter(members.values()))
        final = probe.committed([TopicPartition(t, p) for t in topics
                                 for p in range(PARTITIONS)], timeout=10)
        ends = {t: _watermarks(production.servers, t) for t in topics}
        for done in final:
            assert done.offset == ends[done.topic][done.partition][1], done
    finally:
        for c in members.values():
            c.close()
