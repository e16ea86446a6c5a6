"""The main consumer reads its source topics' metadata while the stream thread joins the group
(thread_rebalance.MetadataWarmup), without clients: the first assign() waits for that read instead of listing the
topics again, a topic the helper could not read is listed by assign() itself, and the helper's list_topics has
ended before the consumer is assigned (no two threads use the consumer at once)."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaException, TopicPartition

from pystreams.runtime.group.thread_rebalance import MetadataWarmup, assign

pytestmark = pytest.mark.unit


class FakeConsumer:
    """Records list_topics and incremental_assign calls; list_topics blocks until `release` is set."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.release = threading.Event()
        self.failing = failing or set()
        self.listing = 0  # list_topics calls running now

    def list_topics(self, topic: str, timeout: float) -> None:
        self.listing += 1
        try:
            self.release.wait(5)
            self.calls.append(("list_topics", topic))
            if topic in self.failing:
                raise KafkaException("no metadata")
        finally:
            self.listing -= 1

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        assert self.listing == 0, "assigned while the warm-up still used the consumer"
        self.calls.append(("assign", sorted((tp.topic, tp.partition) for tp in partitions)))


def _thread(consumer: FakeConsumer, warmup: MetadataWarmup | None) -> Any:
    return SimpleNamespace(_consumer=consumer, _metadata_warmup=warmup)


def test_the_first_assign_waits_for_the_warmup_and_lists_nothing_again() -> None:
    consumer = FakeConsumer()
    warmup = MetadataWarmup(consumer, ["in-b", "in-a", "in-a"])
    warmup.start("t")
    thread = _thread(consumer, warmup)
    threading.Timer(0.05, consumer.release.set).start()  # the "join" ends while the read is still running
    assign(thread, [TopicPartition("in-a", 0, -2), TopicPartition("in-b", 1, -2)])
    assert consumer.calls == [("list_topics", "in-a"), ("list_topics", "in-b"),
                              ("assign", [("in-a", 0), ("in-b", 1)])]
    assert thread._metadata_warmup is None and thread._metadata_known == {"in-a", "in-b"}


def test_a_topic_the_warmup_could_not_read_is_listed_by_assign() -> None:
    consumer = FakeConsumer(failing={"in-a"})
    consumer.release.set()
    warmup = MetadataWarmup(consumer, ["in-a", "in-b"])
    warmup.start("t")
    thread = _thread(consumer, warmup)
    consumer.failing = set()  # the broker answers now
    assign(thread, [TopicPartition("in-a", 0, -2), TopicPartition("in-b", 0, -2)])
    # the helper stopped at its first failure: assign lists both itself, then assigns
    assert consumer.calls[-3:] == [("list_topics", "in-a"), ("list_topics", "in-b"),
                                   ("assign", [("in-a", 0), ("in-b", 0)])]
    assert thread._metadata_known == {"in-a", "in-b"}


def test_without_a_warmup_assign_lists_new_topics_once() -> None:
    consumer = FakeConsumer()
    consumer.release.set()
    thread = _thread(consumer, None)
    assign(thread, [TopicPartition("in-a", 0, -2)])
    assign(thread, [TopicPartition("in-a", 1, -2)])
    assert consumer.calls == [("list_topics", "in-a"), ("assign", [("in-a", 0)]), ("assign", [("in-a", 1)])]


def test_wait_without_topics_or_twice_returns_at_once() -> None:
    consumer = FakeConsumer()
    empty = MetadataWarmup(consumer, [])
    empty.start("t")
    assert empty.wait() == set() and consumer.calls == []
    consumer.release.set()
    warmup = MetadataWarmup(consumer, ["x"])
    warmup.start("t")
    assert warmup.wait() == {"x"} and warmup.wait() == {"x"}
