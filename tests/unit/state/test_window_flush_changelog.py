"""Changelog records sent straight to the collector (StateStoreContext's record_sender, what a StreamTask passes)
or through a store's bound sender (changelog_sender(store)) are the records the task's changelog_sender path
sends: topic (default and overridden), key, value, tombstones, headers, timestamp, partition, order."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.state.context import StateStoreContext

pytestmark = pytest.mark.unit

RECORDS = [(b"k1", b"v1", 10, ()), (b"k2", None, 11, ()), (b"k1", b"v2", 9, (("v", b"\x01"),))]


class _Collector:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        self.sent.append((topic, key, value, headers, timestamp, partition))


def _contexts(collector: _Collector) -> tuple[StateStoreContext, StateStoreContext]:
    def via_task(topic: str, key: bytes, value: bytes | None, timestamp: int, partition: int,
                 headers: Any = ()) -> None:  # StreamTask._send_changelog
        collector.send(topic, key, value, headers, timestamp, partition)

    topics = {"renamed": "custom-changelog"}
    old = StateStoreContext("app", TaskId(0, 3), "/nonexistent", changelog_sender=via_task, changelog_topics=topics)
    new = StateStoreContext("app", TaskId(0, 3), "/nonexistent", changelog_sender=via_task, changelog_topics=topics,
                            record_sender=collector.send)
    return old, new


@pytest.mark.parametrize("store", ["counts", "renamed"])
def test_log_change_and_bound_sender_equal_the_task_sender(store: str) -> None:
    results = []
    for mode in ("task", "record_sender", "bound", "bound_without_record_sender"):
        collector = _Collector()
        old, new = _contexts(collector)
        if mode == "task":
            for key, value, ts, headers in RECORDS:
                old.log_change(store, key, value, ts, headers)
        elif mode == "record_sender":
            for key, value, ts, headers in RECORDS:
                new.log_change(store, key, value, ts, headers)
        else:
            send = (new if mode == "bound" else old).changelog_sender(store)
            for key, value, ts, headers in RECORDS:
                send(key, value, headers, ts)
        results.append(collector.sent)
    topic = "custom-changelog" if store == "renamed" else "app-counts-changelog"
    assert results[0] == [(topic, k, v, h, ts, 3) for k, v, ts, h in RECORDS]
    assert results[1:] == [results[0]] * 3


def test_no_sender_sends_nothing() -> None:
    ctx = StateStoreContext("app", "0_0", "/nonexistent")
    ctx.log_change("s", b"k", b"v", 1)
    ctx.changelog_sender("s")(b"k", b"v", (), 1)  # nothing to send to: no error, nothing sent
