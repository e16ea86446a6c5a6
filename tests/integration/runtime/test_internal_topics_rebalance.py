"""Internal topics deleted while the application runs come back at the next rebalance, on both brokers: the group
leader creates what is missing with its partition count and configs (Kafka's StreamsPartitionAssignor.assign ->
InternalTopicManager.makeReady), not only KafkaStreams.start().

- A repartition topic is a source of the sub-topology it feeds: the members see it gone at their next metadata
  refresh (metadata.max.age.ms), rejoin, the leader re-creates it and counting goes on with the state it had.
- A changelog is no subscribed topic: nothing notices it is gone until some rebalance (here a member leaving).
  The leader re-creates it empty and compacted. A task that keeps running keeps its local state and writes on into
  the new changelog; a task that is restored from it (here: moved to the other instance) finds only what was
  written since, so its state before the deletion is lost, as in Kafka Streams (an empty restore, or, when a
  checkpoint points past the new topic's end, OffsetOutOfRange -> TaskCorruptedException -> wipe and restore).
  Not yet as Kafka: the same instance's clean restart also wipes it (our checkpoint counts changelog offsets from
  before the deletion; strict xfail below).
"""
from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from tests.integration.runtime.helpers import (
    create_after_deletion,
    create_topics,
    produce_lines,
    read_counts_until,
    unique,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

STRINGS = {"key_serde": Serdes.String(), "value_serde": Serdes.String()}


def _config(bootstrap: str, state_dir: Any, app: str) -> dict[str, Any]:
    """The consumers' metadata every second (the members' refresh); the producer keeps Kafka's 5 minutes. With
    the producer's at 1 s too, the deleted repartition topic was re-created first by the broker's auto-creation
    (auto.create.topics.enable, Kafka's default: producers' Metadata requests allow it, Java's too) with
    num.partitions=1, and the leader then failed the application with Kafka's "invalid partitions"."""
    return {"application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(state_dir),
            "commit.interval.ms": 100, "consumer.metadata.max.age.ms": 1000}


def _start_running(streams: KafkaStreams, errors: list[BaseException]) -> None:
    def handler(error: BaseException) -> StreamThreadExceptionResponse:
        errors.append(error)
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT

    streams.set_uncaught_exception_handler(handler)
    streams.start()
    assert streams.wait_for_state(State.RUNNING, timeout=30), streams.state


def _partitions(admin: AdminClient, topic: str) -> int | None:
    # all topics: librdkafka's admin client is a producer, whose Metadata request for one topic would auto-create it
    t = admin.list_topics(timeout=10).topics.get(topic)
    return None if t is None or t.error is not None else len(t.partitions)


def _delete(admin: AdminClient, topic: str) -> None:
    admin.delete_topics([topic])[topic].result(30)
    deadline = time.monotonic() + 15
    while _partitions(admin, topic) is not None:
        assert time.monotonic() < deadline, f"{topic} is still in the metadata after its deletion"
        time.sleep(0.1)


def _await_committed(bootstrap: str, group: str, topic: str, partitions: int) -> None:
    """Until the group's committed offsets of `topic` are its end offsets: the output of a commit is visible before
    its OffsetCommit, and a commit of a topic deleted meanwhile is retried and asks for a rejoin
    (test_commit_deleted_topic.py), which is not what these tests are about: here the members' metadata refresh
    must notice the deletion."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    deadline = time.monotonic() + 15
    try:
        while True:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            ends = [consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in tps]
            committed = [max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10)]  # none yet: -1001
            if committed == ends:
                return
            assert time.monotonic() < deadline, f"committed {committed}, end offsets {ends}"
            time.sleep(0.1)
    finally:
        consumer.close()


def _await_topic(admin: AdminClient, topic: str, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while (n := _partitions(admin, topic)) is None:
        assert time.monotonic() < deadline, f"{topic} was not re-created"
        time.sleep(0.1)
    return n


def _configs(admin: AdminClient, topic: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(30)
    return {name: entry.value for name, entry in entries.items()}


def _tasks(streams: KafkaStreams) -> set[str]:
    return {str(t) for thread in streams.threads for t in thread.tasks}


def test_a_deleted_repartition_topic_comes_back_and_counting_goes_on(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("itr-words"), unique("itr-counts")
    create_topics(bootstrap, 2, source, sink)
    streams = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, tmp_path, unique("itr-wc")))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    errors: list[BaseException] = []
    try:
        _start_running(streams, errors)
        [repartition] = streams.plan.repartition_topics
        produce_lines(bootstrap, source, ["a b", "a c", "a b c"])
        first = {"a": 3, "b": 2, "c": 2}
        assert read_counts_until(bootstrap, sink, lambda c: c == first, timeout=20) == first
        _await_committed(bootstrap, streams.config.application_id, repartition, 2)
        _delete(admin, repartition)
        # a source of the count sub-topology: the members' metadata refresh (1 s) sees it gone and rejoins
        assert _await_topic(admin, repartition) == 2  # the producer's auto-creation would give num.partitions=1
        configs = _configs(admin, repartition)
        assert (configs["cleanup.policy"], configs["retention.ms"]) == ("delete", "-1")  # RepartitionTopicConfig
        # one record: the count task's consumer kept its position on the re-created topic (2 or more on a's
        # partition), which is out of range there and reset to the beginning (auto.offset.reset=earliest); records
        # written below that position before its next fetch would be skipped, not counted
        produce_lines(bootstrap, source, ["a"], start=3)
        final = {"a": 4, "b": 2, "c": 2}
        assert read_counts_until(bootstrap, sink, lambda c: c == final, timeout=20) == final
        assert streams.state is State.RUNNING and not errors, errors
    finally:
        streams.close(30)


def _counting(source: str, sink: str) -> Any:
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(**STRINGS)).group_by_key().count().to_stream()
        .map_values(str).to(sink, Produced(**STRINGS)))
    return builder.build()


def _produce_keys(bootstrap: str, topic: str) -> None:
    """k0 to partition 0 (task 0_0), k1 to partition 1 (task 0_1)."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for p in (0, 1):
        producer.produce(topic, key=f"k{p}", value="x", partition=p)
    assert producer.flush(30) == 0


def _latest(bootstrap: str, sink: str, records: int) -> dict[str, int]:
    """The latest count per key once `records` updates were read (and nothing more came for half a second)."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([sink])
    latest: dict[str, int] = {}
    seen = 0
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            got = [m for m in consumer.consume(100, 0.5) if m.error() is None]
            for m in got:
                latest[m.key().decode()] = int(m.value().decode())
            seen += len(got)
            if seen >= records and not got:
                break
    finally:
        consumer.close()
    return latest


def test_a_deleted_changelog_comes_back_at_the_next_rebalance(kafka_broker: Any, tmp_path: Any) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("itc-in"), unique("itc-out")
    create_topics(bootstrap, 2, source, sink)
    app = unique("itc-count")
    a = KafkaStreams(_counting(source, sink), _config(bootstrap, tmp_path / "a", app))
    b = KafkaStreams(_counting(source, sink), _config(bootstrap, tmp_path / "b", app))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    errors: list[BaseException] = []
    try:
        _start_running(a, errors)
        _start_running(b, errors)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (len(_tasks(a)) == 1 and len(_tasks(b)) == 1):
            time.sleep(0.1)  # cooperative: the second instance gets its task a rebalance later
        assert _tasks(a) | _tasks(b) == {"0_0", "0_1"} and len(_tasks(b)) == 1, (_tasks(a), _tasks(b))
        kept = f"k{min(_tasks(a))[-1]}"  # the key of a's task (its partition)
        moved = f"k{min(_tasks(b))[-1]}"
        [changelog] = a.plan.changelog_topics
        _produce_keys(bootstrap, source)
        assert _latest(bootstrap, sink, 2) == {"k0": 1, "k1": 1}
        _delete(admin, changelog)
        b.close(30)  # a member leaves: a rebalance, where the leader (a) finds the changelog missing
        assert _await_topic(admin, changelog) == 2
        assert _configs(admin, changelog)["cleanup.policy"] == "compact"
        _produce_keys(bootstrap, source)
        # a's own task kept its state; b's task was restored on a from the new, empty changelog: counts anew
        assert _latest(bootstrap, sink, 4) == {kept: 2, moved: 1}
        assert _tasks(a) == {"0_0", "0_1"}
        assert a.state is State.RUNNING and not errors, errors
    finally:
        b.close(30)
        a.close(30)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="changelog offsets are counted from the end offset at restore plus the "
                   "acknowledged sends (tasks.checkpoint_task), which a re-created changelog invalidates: the "
                   "checkpoint points past the new topic's end, the restart finds it out of range and wipes the "
                   "state (TaskCorrupted). Kafka takes the offsets from the producer's acks (RecordCollectorImpl), so "
                   "its checkpoint matches the new topic and the restart keeps the local state. Reading the changelogs' end "
                   "offsets from the broker at every checkpoint (26b7342, reverted) fixed this but cost ~0.5 s per changelog "
                   "partition at every close, revocation and 10,000-offset checkpoint (the main consumer's ListOffsets "
                   "waits behind its fetch): see the session 9 note on issue 7")
def test_a_clean_restart_after_a_recreated_changelog_keeps_the_local_state(kafka_broker: Any,
                                                                           tmp_path: Any) -> None:
    """k2 is counted before the changelog is deleted and re-created, k0 after: Kafka Streams' checkpoint (written
    at commit and close) has the new changelog's offsets, so the same instance restarts without restoring and k2
    still counts on from 1 (on another instance, restored from the new changelog, k2 would start again)."""
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("itk-in"), unique("itk-out")
    create_topics(bootstrap, 2, source, sink)
    config = _config(bootstrap, tmp_path, unique("itk-count"))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    producer = Producer({"bootstrap.servers": bootstrap})

    def send(*keys: str) -> None:
        for key in keys:
            producer.produce(source, key=key, value="x", partition=0)
        assert producer.flush(30) == 0

    streams = KafkaStreams(_counting(source, sink), config)
    try:
        _start_running(streams, [])
        [changelog] = streams.plan.changelog_topics
        send("k0", "k2")
        assert _latest(bootstrap, sink, 2) == {"k0": 1, "k2": 1}
        _delete(admin, changelog)
        create_after_deletion(bootstrap, changelog, 2)  # while the task runs, as the leader's next rebalance does
        send("k0")
        assert _latest(bootstrap, sink, 3) == {"k0": 2, "k2": 1}
        streams.close(30)
        streams = KafkaStreams(_counting(source, sink), config)
        _start_running(streams, [])
        send("k2")
        assert _latest(bootstrap, sink, 4) == {"k0": 2, "k2": 2}
    finally:
        streams.close(30)
