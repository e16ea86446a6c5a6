"""record-e2e-latency of sink nodes (Kafka's terminal nodes, INFO): one sample per iteration in which a sink's last
written timestamp moved (node_metrics.E2ELatency), read from the sink's `last_timestamp`."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.node_metrics import E2ELatency

pytestmark = pytest.mark.unit


def _task(sink: Any) -> SimpleNamespace:
    return SimpleNamespace(id="0_0", task=SimpleNamespace(_queues={}, sinks={sink.name: sink}))


def test_a_sink_is_sampled_when_its_last_written_timestamp_moved():
    e2e = E2ELatency(30_000, 2)
    sink = SimpleNamespace(name="KSTREAM-SINK-0000000003", last_timestamp=-1)
    tasks = [_task(sink)]
    e2e.retain(tasks)  # the live tasks changed (as at every change): their sinks are noted
    e2e.sample(tasks, wall_ms=10_000, now_ms=1.0)
    assert e2e.values(2.0) == {}  # nothing written yet
    sink.last_timestamp = 9_000
    e2e.sample(tasks, wall_ms=10_000, now_ms=3.0)
    e2e.sample(tasks, wall_ms=12_000, now_ms=4.0)  # not moved: no second sample of the same record
    sink.last_timestamp = 11_700
    e2e.sample(tasks, wall_ms=12_000, now_ms=5.0)
    got = e2e.values(6.0)[("0_0", "KSTREAM-SINK-0000000003")]
    assert got == {"record-e2e-latency-avg": 650.0, "record-e2e-latency-min": 300, "record-e2e-latency-max": 1000}


def test_a_sink_without_the_timestamp_reports_nothing():
    e2e = E2ELatency(30_000, 2)
    tasks = [_task(SimpleNamespace(name="KSTREAM-SINK-0000000001"))]
    e2e.retain(tasks)
    assert e2e._sinks == []  # nothing to look at per iteration
    e2e.sample(tasks, wall_ms=10_000, now_ms=1.0)
    assert e2e.values(2.0) == {}


class _SlottedSink:
    __slots__ = ("last_timestamp", "name")

    def __init__(self) -> None:
        self.name = "KSTREAM-SINK-0000000002"  # last_timestamp not written yet: an empty slot


def test_a_sink_with_a_timestamp_slot_is_noted_before_it_wrote_anything():
    e2e = E2ELatency(30_000, 2)
    sink = _SlottedSink()
    tasks = [_task(sink)]
    e2e.retain(tasks)
    e2e.sample(tasks, wall_ms=10_000, now_ms=1.0)
    assert e2e.values(2.0) == {}
    sink.last_timestamp = 9_500
    e2e.sample(tasks, wall_ms=10_000, now_ms=3.0)
    assert e2e.values(4.0)[("0_0", "KSTREAM-SINK-0000000002")]["record-e2e-latency-max"] == 500
