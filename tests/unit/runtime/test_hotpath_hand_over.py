"""hand_over's error-free path (runs of a partition found by map/groupby) hands the same slices to the same tasks
in the same order as the record-by-record loop that batches with errors take, drops revoked partitions' records
and reports the partitions above buffered.records.per.partition."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, Message

from pystreams.runtime.processing import hand_over

pytestmark = pytest.mark.unit


class _Task:
    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.held: dict[tuple[str, int], int] = {}

    def add_messages(self, topic: str, partition: int, messages: list[Any]) -> None:
        self.log.append((topic, partition, [m.offset() for m in messages]))
        self.held[(topic, partition)] = self.held.get((topic, partition), 0) + len(messages)

    def buffered(self, topic: str, partition: int) -> int:
        return self.held.get((topic, partition), 0)


class _Active:
    def __init__(self, task: _Task) -> None:
        self.task = task


def _batch(layout: list[tuple[str, int, int]]) -> list[Message]:
    out, offset = [], 0
    for topic, partition, n in layout:
        for _ in range(n):
            out.append(Message(topic=topic, partition=partition, offset=offset, value=b"v", timestamp=(1, 5)))
            offset += 1
    return out


def _eof() -> Message:
    return Message(topic="zz", partition=9, offset=0, error=KafkaError(KafkaError._PARTITION_EOF))


def _hand(messages: list[Message], owned: list[tuple[str, int]], max_buffered: int = -1) -> tuple[Any, Any]:
    log: list[Any] = []
    task = _Task(log)
    full = hand_over(messages, {tp: _Active(task) for tp in owned}, max_buffered)
    return log, full


LAYOUTS = [
    [("a", 0, 5)],
    [("a", 0, 3), ("a", 1, 4), ("a", 0, 2), ("a", 2, 1)],
    [("a", 0, 3), ("b", 0, 2), ("a", 0, 1)],
    [("a", 1, 1), ("a", 0, 1), ("a", 1, 1)],
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("max_buffered", [-1, 0, 3])
def test_error_free_batches_match_the_loop(layout: list[tuple[str, int, int]], max_buffered: int) -> None:
    owned = [("a", 0), ("a", 2), ("b", 0)]  # ("a", 1) was revoked: its records are dropped
    messages = _batch(layout)
    fast = _hand(messages, owned, max_buffered)
    loop = _hand(messages + [_eof()], owned, max_buffered)  # an error event sends the batch through the loop
    assert fast == loop
    expected_runs = []
    offset = 0
    for topic, partition, n in layout:
        if (topic, partition) in owned:  # one add per run, also after a dropped run of the same partition
            expected_runs.append((topic, partition, list(range(offset, offset + n))))
        offset += n
    assert fast[0] == expected_runs


def test_an_empty_batch_adds_nothing() -> None:
    assert _hand([], [("a", 0)]) == ([], [])
