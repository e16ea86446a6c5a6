"""JavaPriorityQueue polls in exactly java.util.PriorityQueue's order, ties included.

java_priority_queue_traces.txt was produced by tests/unit/state/kafka_generators/PriorityQueueTraces.java
(java.util.PriorityQueue, JDK 17) on random
offer/poll sequences: `oID:TS` offers item ID with timestamp TS, `pID` is the item Java's poll() returned.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.processor.internals.java_heap import JavaPriorityQueue

pytestmark = pytest.mark.unit

TRACES = Path(__file__).with_name("java_priority_queue_traces.txt").read_text().splitlines()


def test_ties_are_not_fifo_like_java() -> None:
    q: JavaPriorityQueue[str] = JavaPriorityQueue(lambda s: 5)
    for name in "ABC":
        q.offer(name)
    assert [q.poll(), q.poll(), q.poll(), q.poll()] == ["A", "C", "B", None]


@pytest.mark.parametrize("trace", TRACES)
def test_poll_order_matches_java(trace: str) -> None:
    q: JavaPriorityQueue[tuple[int, int]] = JavaPriorityQueue(lambda item: item[1])
    polled, expected = [], []
    for op in trace.split():
        if op.startswith("o"):
            item, ts = op[1:].split(":")
            q.offer((int(item), int(ts)))
        else:
            expected.append(int(op[1:]))
            got = q.poll()
            assert got is not None
            polled.append(got[0])
    assert polled == expected and len(q) == 0
