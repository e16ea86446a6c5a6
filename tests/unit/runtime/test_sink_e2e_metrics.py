"""record-e2e-latency of sink nodes (Kafka's terminal nodes, INFO): one sample per iteration in which a sink was handed
a record (node_metrics.E2ELatency), taken from the sink's `last_timestamp`; and of source nodes, one per iteration in
which a partition processed records."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.node_metrics import E2ELatency

pytestmark = pytest.mark.unit


def _task(sink: Any) -> SimpleNamespace:
    return SimpleNamespace(id="0_0", task=SimpleNamespace(_queues={}, sinks={sink.name: sink}))


def test_a_sink_is_sampled_in_each_iteration_it_was_handed_a_record():
    e2e = E2ELatency(30_000, 2)
    sink = SimpleNamespace(name="KSTREAM-SINK-0000000003", last_timestamp=-1)
    tasks = [_task(sink)]
    e2e.retain(tasks)  # the live tasks changed (as at every change): their sinks are noted
    e2e.sample(tasks, wall_ms=10_000, now_ms=1.0)
    assert e2e.values(2.0) == {}  # nothing written yet
    sink.last_timestamp = 9_000
    e2e.sample(tasks, wall_ms=10_000, now_ms=3.0)
    assert sink.last_timestamp == -1  # taken by the sample
    e2e.sample(tasks, wall_ms=12_000, now_ms=4.0)  # nothing handed to the sink since: no second sample
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


def test_records_of_one_timestamp_are_sampled_in_each_iteration_that_handed_one_to_the_sink():
    e2e = E2ELatency(30_000, 2)
    sink = SimpleNamespace(name="KSTREAM-SINK-0000000003", last_timestamp=-1)
    tasks = [_task(sink)]
    e2e.retain(tasks)
    for wall in (10_000, 11_000, 12_000):
        sink.last_timestamp = 9_000  # every record stamped 9000 (a fixed-time source)
        e2e.sample(tasks, wall_ms=wall, now_ms=wall / 1000)
    got = e2e.values(13.0)[("0_0", "KSTREAM-SINK-0000000003")]
    assert got == {"record-e2e-latency-avg": 2000.0, "record-e2e-latency-min": 1000, "record-e2e-latency-max": 3000}


def test_a_source_partition_is_sampled_when_it_processed_records_of_an_old_timestamp():
    e2e = E2ELatency(30_000, 2)
    queue = SimpleNamespace(partition_time=9_000, next_offset=10, source=SimpleNamespace(name="KSTREAM-SOURCE-0"))
    tasks = [SimpleNamespace(id="0_0", task=SimpleNamespace(_queues={("in", 0): queue}, sinks={}))]
    e2e.retain(tasks)
    e2e.sample(tasks, wall_ms=10_000, now_ms=1.0)
    e2e.sample(tasks, wall_ms=11_000, now_ms=2.0)  # nothing processed: no sample
    queue.next_offset = 20  # ten more records, none newer than the partition time
    e2e.sample(tasks, wall_ms=12_000, now_ms=3.0)
    got = e2e.values(4.0)[("0_0", "KSTREAM-SOURCE-0")]
    assert got == {"record-e2e-latency-avg": 2000.0, "record-e2e-latency-min": 1000, "record-e2e-latency-max": 3000}
