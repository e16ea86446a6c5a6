"""exactly_once_v2: a repartition topic deleted while its offsets wait in the open transaction, on both brokers.

The TxnOffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION for its partitions; the producer retries it until max.block.ms
(Kafka's and librdkafka's TxnOffsetCommit handlers both retry it), then the commit fails. Kafka Streams 4.x turns
that TimeoutException into TaskCorruptedException (TaskExecutor.commitOffsetsOrTransaction): the transaction is
aborted, the tasks are closed dirty and revived in place from their committed offsets (state restored from the
changelog) and a rebalance is enforced, in which the leader creates the topic again. pystreams used to take the
task-migration path instead (every partition given up, "tasks migrated"). Exactly-once holds throughout: the aborted
count is not in the read_committed output and the revived state does not have it."""
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
    read_count_updates,
    read_counts_until,
    thread_errors,
    unique,
    wordcount_topology,
)
from tests.integration.runtime.test_commit_deleted_topic import COMMIT_INTERVAL_S, _commits, _config, _partitions

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAX_BLOCK_MS = 3000  # how long the producer retries the offsets of the deleted topic (Kafka's default: 60 s)


def test_offsets_of_a_deleted_topic_corrupt_the_tasks_which_are_revived_in_place(
        kafka_broker: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pystreams.runtime")
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("eod-words"), unique("eod-counts")
    create_topics(bootstrap, 2, source, sink)
    config = {**_config(bootstrap, tmp_path, unique("eod-wc")), "processing.guarantee": "exactly_once_v2",
              "max.block.ms": MAX_BLOCK_MS, "statestore.cache.max.bytes": 0}
    streams = KafkaStreams(wordcount_topology(source, sink), config)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    errors = thread_errors(streams)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=30), streams.state
        [repartition] = streams.plan.repartition_topics
        produce_lines(bootstrap, source, ["a b"])
        first = {"a": 1, "b": 1}
        assert read_counts_until(bootstrap, sink, lambda c: c == first, isolation="read_committed",
                                 timeout=30) == first
        seen, deadline = _commits(streams), time.monotonic() + COMMIT_INTERVAL_S + 5
        while _commits(streams) == seen:  # just after a commit: "a c" is repartitioned, committed, then counted
            assert time.monotonic() < deadline, "no commit"
            time.sleep(0.005)
        produce_lines(bootstrap, source, ["a c"], start=1)
        # counted in the open transaction (read_uncommitted sees it), its repartition offsets not yet committed
        assert read_counts_until(bootstrap, sink, lambda c: c.get("c") == 1, timeout=3 * COMMIT_INTERVAL_S + 10)
        admin.delete_topics([repartition])[repartition].result(30)
        deadline = time.monotonic() + COMMIT_INTERVAL_S + MAX_BLOCK_MS / 1000 + 20
        while not any("are revived from their committed offsets" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the failed commit did not revive the tasks"
            assert not errors, errors
            time.sleep(0.05)
        while _partitions(admin, repartition) is None:  # created again in the rebalance the revival asked for
            assert time.monotonic() < deadline, f"{repartition} was not re-created"
            time.sleep(0.05)
        assert not [r.getMessage() for r in caplog.records if "tasks migrated" in r.getMessage()]
        assert streams.state is not State.ERROR and not errors, errors
        produce_lines(bootstrap, source, ["a d"], start=2)
        # "a c" went with the deleted topic (its count aborted); everything else exactly once
        updates = read_count_updates(bootstrap, sink, expected=4, timeout=60)
        assert updates == {"a": [1, 2], "b": [1], "d": [1]}, updates
        assert streams.state is State.RUNNING and not errors, errors
    finally:
        streams.close(30)
