"""A repartition topic deleted while its offsets wait to be committed does not kill the stream thread, on both
brokers. The group offset commit answers UNKNOWN_TOPIC_OR_PARTITION for it; as Kafka's consumer (commitSync retries
it until default.api.timeout.ms, then TimeoutException, which Kafka Streams' TaskManager.commit turns into
task.timeout.ms deadlines) the thread keeps its tasks and commits again later. The unknown topic also makes the
member rejoin, where the leader re-creates the topic (InternalTopicManager.makeReady), and counting goes on.

The members' own metadata refresh is slowed down to a minute here, so nothing but the failed commit notices the
deletion: the commit that fails is certain, not a race with the refresh."""
from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    read_counts_until,
    thread_errors,
    unique,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

COMMIT_INTERVAL_S = 3.5  # the input is produced, processed and read, and the topic deleted, within it (~1 s)


def _config(bootstrap: str, state_dir: Any, app: str) -> dict[str, Any]:
    return {"application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(state_dir),
            "commit.interval.ms": int(COMMIT_INTERVAL_S * 1000),
            "default.api.timeout.ms": 1000,  # how long one commit retries (Kafka's default: 60 s)
            "consumer.metadata.max.age.ms": 60_000}


def _partitions(admin: AdminClient, topic: str) -> int | None:
    # all topics: librdkafka's admin client is a producer, whose Metadata request for one topic would auto-create it
    t = admin.list_topics(timeout=10).topics.get(topic)
    return None if t is None or t.error is not None else len(t.partitions)


def _commits(streams: KafkaStreams) -> int:
    return sum(thread.metrics.commits for thread in streams.threads)


def test_a_commit_of_a_deleted_repartition_topic_is_retried_and_the_topic_comes_back(
        kafka_broker: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pystreams.runtime")
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("cdt-words"), unique("cdt-counts")
    create_topics(bootstrap, 2, source, sink)
    streams = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, tmp_path, unique("cdt-wc")))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    errors = thread_errors(streams)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=30), streams.state
        [repartition] = streams.plan.repartition_topics
        # just after a commit: the input below is processed and its offsets wait COMMIT_INTERVAL_S for the next one
        seen, deadline = _commits(streams), time.monotonic() + COMMIT_INTERVAL_S + 5
        while _commits(streams) == seen:
            assert time.monotonic() < deadline, "no commit"
            time.sleep(0.005)
        produce_lines(bootstrap, source, ["a b", "a c", "a b c"])
        first = {"a": 3, "b": 2, "c": 2}
        assert read_counts_until(bootstrap, sink, lambda c: c == first, timeout=20) == first
        admin.delete_topics([repartition])[repartition].result(30)
        assert _commits(streams) == seen + 1, "the offsets of the counted records were committed before the deletion"
        deadline = time.monotonic() + 15
        while _partitions(admin, repartition) is not None:  # gone ...
            assert time.monotonic() < deadline, f"{repartition} is still in the metadata after its deletion"
            time.sleep(0.05)
        while _partitions(admin, repartition) is None:  # ... and back, from the rebalance the failed commit asked for
            assert time.monotonic() < deadline, f"{repartition} was not re-created"
            assert streams.state is State.RUNNING and not errors, (streams.state, errors)
            time.sleep(0.05)
        assert _partitions(admin, repartition) == 2
        failed = [r.getMessage() for r in caplog.records if "UNKNOWN_TOPIC_OR_PARTITION" in r.getMessage()
                  and "commit" in r.getMessage()]
        assert failed, "no commit failed with UNKNOWN_TOPIC_OR_PARTITION"
        # the count task's consumer kept its position on the re-created topic, out of range there and reset to the
        # beginning (auto.offset.reset=earliest): one record, as a later one could land below that position
        produce_lines(bootstrap, source, ["a"], start=3)
        final = {"a": 4, "b": 2, "c": 2}
        assert read_counts_until(bootstrap, sink, lambda c: c == final, timeout=20) == final
        assert streams.state is State.RUNNING and not errors, errors
    finally:
        streams.close(30)
