"""process_tasks with task idling (max.task.idle.ms) on a real StreamTask of two input partitions (a merge of
topics "a" and "c") and a fake consumer for the fetched lags: no waiting without a consumer, for -1, or for a
caught-up empty partition under the default 0; waiting while an empty partition has lag > 0; a batch stops when
a partition runs dry so the rest waits for it."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import TopicPartition

from pystreams.processor.task_id import TaskId
from pystreams.runtime.processing import process_tasks
from tests.unit.processor.test_engine_paths import CONTINUE_PROCESSING, inputs, new_task

pytestmark = pytest.mark.unit

HANDLER = {"processing.exception.handler": CONTINUE_PROCESSING}


class FakeConsumer:
    """position / cached watermarks per (topic, partition); no broker."""

    def __init__(self, state: dict[tuple[str, int], tuple[int, int]]) -> None:
        self.state = state  # tp -> (position, high)

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.state[(tp.topic, tp.partition)][0]) for tp in tps]

    def get_watermark_offsets(self, tp: TopicPartition, timeout: Any = None, cached: bool = False) -> tuple[int, int]:
        assert cached
        return 0, self.state[(tp.topic, tp.partition)][1]

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p, 0) for t, p in self.state]


def _metrics() -> Any:
    return SimpleNamespace(processed=0, process_ms=0.0, process_latency_max_ms=0.0,
                           record_punctuate=lambda punctuations, ms: None)


def _active(tmp: Any, name: str, **configs: Any) -> Any:
    task, _collector = new_task(tmp, name, **HANDLER, **configs)
    return SimpleNamespace(task=task, id=TaskId(0, 0),
                           sub=SimpleNamespace(source_topics=["a", "c", "b"], source_patterns=[]))


def _records() -> dict[str, list[Any]]:
    return dict(inputs())  # a: 8 records at 100, 110, ..., 170; c: 4 at 105, 125, 145, 165


def test_an_empty_partition_with_lag_blocks_until_it_is_caught_up_then_enforced(tmp_path):
    at = _active(tmp_path, "lag")
    at.task.add_records("a", 0, _records()["a"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (0, 4)})  # c: 4 records on the broker, none fetched
    assert process_tasks([at], _metrics(), [1.0], consumer) == 0
    assert at.task.buffered("a", 0) == 8
    consumer.state[("c", 0)] = (4, 4)  # caught up, and nothing buffered: default 0 processes at once
    metrics = _metrics()
    assert process_tasks([at], metrics, [1.0], consumer) == 8
    assert metrics.processed == 8
    assert at.task.idling.enforced_processing_total == 8


def test_a_batch_stops_when_a_partition_runs_dry_while_it_has_lag(tmp_path):
    at = _active(tmp_path, "dry")
    records = _records()
    at.task.add_records("a", 0, records["a"])
    at.task.add_records("c", 0, records["c"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (4, 9)})  # 5 more records of c on the broker
    # timestamp order until c's last buffered record (165): a 100..160 (7) and c's 4; a@170 must wait
    assert process_tasks([at], _metrics(), [1.0], consumer) == 11
    assert at.task.buffered("a", 0) == 1 and at.task.buffered("c", 0) == 0
    assert at.task.committable_offsets() == {("a", 0): 7, ("c", 0): 4}
    assert at.task.idling.enforced_processing_total == 0
    assert process_tasks([at], _metrics(), [1.0], consumer) == 0  # still waiting
    at.task.add_records("c", 0, [(4, 168, b"c4", b"late", ())])
    consumer.state[("c", 0)] = (5, 9)
    assert process_tasks([at], _metrics(), [1.0], consumer) == 1  # c@168; c dry again with lag 4: a@170 waits
    assert at.task.committable_offsets() == {("a", 0): 7, ("c", 0): 5}
    consumer.state[("c", 0)] = (9, 9)  # the rest of c was aborted/compacted away: caught up
    assert process_tasks([at], _metrics(), [1.0], consumer) == 1
    assert at.task.committable_offsets() == {("a", 0): 8, ("c", 0): 5}
    assert at.task.idling.enforced_processing_total == 1


@pytest.mark.parametrize("configs,consumer", [
    ({"max.task.idle.ms": -1}, FakeConsumer({("a", 0): (8, 8), ("c", 0): (0, 4)})),
    ({}, None),  # no consumer to read lags from (as before task idling)
])
def test_no_waiting_with_idling_disabled_or_without_a_consumer(tmp_path, configs, consumer):
    at = _active(tmp_path, "off", **configs)
    at.task.add_records("a", 0, _records()["a"])
    assert process_tasks([at], _metrics(), [1.0], consumer) == 8


def test_max_task_idle_ms_waits_for_a_caught_up_partition_then_processes(tmp_path):
    at = _active(tmp_path, "idle", **{"max.task.idle.ms": 60_000})
    at.task.add_records("a", 0, _records()["a"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (0, 0)})
    assert process_tasks([at], _metrics(), [1.0], consumer) == 0  # deadline a minute away
    deadline = at.task.idling._deadlines[("c", 0)]
    at.task.idling._deadlines[("c", 0)] = deadline - 60_000  # as if the minute had passed
    assert process_tasks([at], _metrics(), [1.0], consumer) == 8
    assert at.task.idling.enforced_processing_total == 8


def test_a_bad_max_task_idle_ms_is_a_config_error(tmp_path):
    from pystreams.errors import ConfigError

    at = _active(tmp_path, "bad", **{"max.task.idle.ms": "later"})
    at.task.add_records("a", 0, _records()["a"])
    with pytest.raises(ConfigError, match="max.task.idle.ms"):
        process_tasks([at], _metrics(), [1.0], FakeConsumer({("a", 0): (8, 8), ("c", 0): (0, 0)}))


def test_only_the_partitions_assigned_to_the_task_are_waited_for(tmp_path):
    """"b" is a source topic of the sub-topology without a partition 0 on this consumer (fewer partitions than
    the task number, or another task's): it never has records or a lag, and must not block the task."""
    at = _active(tmp_path, "assigned")
    at.task.add_records("a", 0, _records()["a"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (0, 0), ("b", 1): (0, 5)})
    assert process_tasks([at], _metrics(), [1.0], consumer) == 8
    assert at.task.idling.partitions == (("a", 0), ("c", 0))


def test_pattern_sources_match_the_assigned_topics(tmp_path):
    import re

    at = _active(tmp_path, "pattern")
    at.sub.source_topics = ["a"]
    at.sub.source_patterns = [re.compile("c|d")]
    at.task.add_records("a", 0, _records()["a"])
    consumer = FakeConsumer({("a", 0): (8, 8), ("c", 0): (0, 4), ("e", 0): (0, 0)})
    assert process_tasks([at], _metrics(), [1.0], consumer) == 0  # c matches and has lag 4
    assert at.task.idling.partitions == (("a", 0), ("c", 0))
