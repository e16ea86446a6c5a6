"""Our group membership on both brokers (Apache Kafka 4.1.1 and ours): join/sync/heartbeat, a cooperative
rebalance when a second member joins and when it leaves, commits as member + generation, and fencing of a stale
generation for OffsetCommit and for send_offsets_to_transaction with our consumer-group metadata bytes."""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Sequence

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from pystreams.runtime.group import GroupClient, GroupMember, MemberConfig, MemberFencedError
from pystreams.runtime.group.membership import MemberMetadata, Rebalance
from pystreams.runtime.group.metadata import parse_consumer_group_metadata
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = pytest.mark.integration


def cooperative_round_robin(members: Sequence[MemberMetadata]) -> dict[str, tuple[list[Any], bytes | None]]:
    """A tiny cooperative assignor for these tests: partitions spread in member order; a partition owned by
    another member this round is left out (its owner revokes it first), as KIP-429 requires."""
    ids = sorted(m.member_id for m in members)
    topics = sorted({t for m in members for t in m.topics})
    owner = {tp: m.member_id for m in members for tp in m.owned_partitions}
    out: dict[str, tuple[list[Any], bytes | None]] = {m: ([], m.encode()) for m in ids}
    for i, tp in enumerate((t, p) for t in topics for p in range(COUNTS[t])):
        target = ids[i % len(ids)]
        if owner.get(tp, target) == target:
            out[target][0].append(tp)
    return out


COUNTS: dict[str, int] = {}


def make_member(bootstrap: str, group: str, topic: str, name: str, session_timeout_ms: int = 6_000) -> GroupMember:
    cfg = MemberConfig(group, session_timeout_ms=session_timeout_ms, rebalance_timeout_ms=15_000,
                       heartbeat_interval_ms=200)
    return GroupMember(cfg, GroupClient(bootstrap, group, name), GroupClient(bootstrap, group, f"{name}-hb"),
                       lambda: [topic], lambda: name.encode(), cooperative_round_robin)


def poll_until(member: GroupMember, done: Any, timeout: float = 30.0) -> list[Rebalance]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = member.poll()
        if r is not None:
            seen.append(r)
        if done():
            return seen
        time.sleep(0.05)
    raise AssertionError(f"timed out; owned {sorted(member.owned)}, rebalances {seen}")


@pytest.fixture
def group_topic(kafka_broker: Any) -> tuple[str, str, str]:
    topic = unique("group-in")
    create_topics(kafka_broker.bootstrap_servers, 4, topic)
    COUNTS[topic] = 4
    return kafka_broker.bootstrap_servers, unique("group-app"), topic


def test_a_second_member_joins_and_leaves_with_cooperative_rebalances(group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    # 3 s sessions (the test brokers have no session floor), so the heartbeat check below lasts 4.5 s, not 7 s
    a = make_member(bootstrap, group, topic, "a", session_timeout_ms=3_000)
    b = make_member(bootstrap, group, topic, "b", session_timeout_ms=3_000)
    try:
        first = a.poll()
        assert first is not None and first.added == {(topic, p) for p in range(4)} and a.is_leader
        assert GroupClient(bootstrap, group, "x").partition_counts([topic, "no-such-topic"]) == {topic: 4}
        b_events: list[Rebalance] = []
        b_thread = threading.Thread(target=lambda: b_events.extend(poll_until(b, lambda: len(b.owned) == 2)))
        b_thread.start()
        a_events = poll_until(a, lambda: len(a.owned) == 2 and not b_thread.is_alive())
        b_thread.join(30)
        kept = a.owned
        # A only ever gave partitions up; the two it keeps were never revoked, lost or re-added
        assert not any(e.lost for e in a_events)
        assert all(not (e.revoked & kept) and not (e.added & kept) for e in a_events)
        assert sum(len(e.revoked) for e in a_events) == 2
        assert a.owned | b.owned == {(topic, p) for p in range(4)} and not a.owned & b.owned
        assert a.generation_id == b.generation_id and a.generation_id > first.generation_id
        # heartbeats keep both members in the group for longer than the session timeout (1.5x)
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            assert a.poll() is None and b.poll() is None
            time.sleep(0.2)
        b.close()  # LeaveGroup: A gets everything back without waiting for a session timeout
        back = poll_until(a, lambda: len(a.owned) == 4, timeout=20)
        assert sum(len(e.added) for e in back) == 2 and not any(e.revoked or e.lost for e in back)
    finally:
        a.close()
        b.close()


def test_commit_as_member_and_generation_and_a_stale_generation_is_fenced(
        group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    a = make_member(bootstrap, group, topic, "a")
    try:
        a.poll()
        a.commit({(topic, 0): 5, (topic, 1): 7})
        assert a.committed([(topic, 0), (topic, 1), (topic, 2)]) == {(topic, 0): 5, (topic, 1): 7, (topic, 2): -1}
        old = a.generation_id
        a.request_rejoin("test")
        a.poll()
        assert a.generation_id > old
        with pytest.raises(MemberFencedError) as fenced:
            a.client.commit_offsets(old, a.member_id, None, {(topic, 0): 99})
        assert fenced.value.name == "ILLEGAL_GENERATION"
        assert a.committed([(topic, 0)]) == {(topic, 0): 5}
        assert GroupClient(bootstrap, group, "x").end_offsets([(topic, 0)]) == {(topic, 0): 0}
    finally:
        a.close()


def test_send_offsets_to_transaction_with_our_metadata_and_a_stale_generation_is_fenced(
        group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    out = unique("group-out")
    create_topics(bootstrap, 1, out)
    a = make_member(bootstrap, group, topic, "a")
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"txn-{uuid.uuid4().hex[:8]}",
                         "transaction.timeout.ms": 10_000})
    try:
        a.poll()
        producer.init_transactions(30)
        producer.begin_transaction()
        producer.produce(out, b"v1")
        producer.send_offsets_to_transaction([TopicPartition(topic, 0, 11)], a.group_metadata(), 30)
        producer.commit_transaction(30)
        assert a.committed([(topic, 0)]) == {(topic, 0): 11}
        stale = a.group_metadata()
        a.request_rejoin("test")
        a.poll()
        assert parse_consumer_group_metadata(stale)[1] < a.generation_id
        producer.begin_transaction()
        producer.produce(out, b"v2")
        with pytest.raises(KafkaException) as refused:
            producer.send_offsets_to_transaction([TopicPartition(topic, 0, 12)], stale, 30)
        assert refused.value.args[0].name() == "ILLEGAL_GENERATION"
        producer.abort_transaction(30)
        assert a.committed([(topic, 0)]) == {(topic, 0): 11}
        producer.begin_transaction()  # fresh metadata of the current generation commits again
        producer.send_offsets_to_transaction([TopicPartition(topic, 0, 13)], a.group_metadata(), 30)
        producer.commit_transaction(30)
        assert a.committed([(topic, 0)]) == {(topic, 0): 13}
    finally:
        producer.flush(5)
        a.close()


def test_librdkafka_writes_the_generation_as_we_parse_it(group_topic: tuple[str, str, str]) -> None:
    """A librdkafka consumer that joined: its metadata parses to its member id and a small positive generation
    (a wrong byte order would read generation 1 as 16777216)."""
    bootstrap, group, topic = group_topic
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(0.2)
        assert consumer.assignment()
        parsed = parse_consumer_group_metadata(consumer.consumer_group_metadata())
        assert parsed[0] == group and parsed[2] == consumer.memberid() and parsed[3] is None
        assert 1 <= parsed[1] < 1000
    finally:
        consumer.close()
