"""restore-remaining-records-total (Kafka's INFO stream-task-metrics) and, at metrics.recording.level DEBUG, the
task-level restore-total of a real restore (both brokers): read from the restore listener's calls on the stream
thread, the remaining count is the changelog end minus the next offset to restore, falls with each batch, and is
0 once the task runs; at INFO the DEBUG restore-total is absent."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import StateRestoreListener
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

STORE = "word-counts"


def _by_partition(metrics: dict[Any, Any], name: str, partition: int) -> int:
    """The task-level metric summed over the tasks of one input partition (only the word count's stateful task,
    in the topology's second sub-topology, has a store)."""
    values = [v for m, v in metrics.items() if m.name == name and m.group == "stream-task-metrics"
              and m.tags["task-id"].endswith(f"_{partition}")]
    assert len(values) == 2, values  # the repartitioning and the counting task
    return int(sum(values))


class Reader(StateRestoreListener):
    """At each restore call: (event, changelog partition, offset, the task's restore-remaining-records-total)."""

    def __init__(self) -> None:
        self.streams: Any = None
        self.seen: list[tuple[str, int, int, int]] = []

    def _remaining(self, partition: int) -> int:
        return _by_partition(self.streams.metrics().by_metric_name(), "restore-remaining-records-total", partition)

    def on_restore_start(self, tp, store, start, end):
        self.seen.append(("start", tp[1], end, self._remaining(tp[1])))
        self.seen.append(("start-offset", tp[1], start, 0))

    def on_batch_restored(self, tp, store, batch_end, n):
        self.seen.append(("batch", tp[1], batch_end, self._remaining(tp[1])))


def test_restore_remaining_records_per_task_during_a_restore(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("mr"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    topology = wordcount_topology(source, sink, STORE)
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 200}
    lines = [f"w{i} common" for i in range(120)]  # ~60 keys per changelog partition
    first = KafkaStreams(topology, config)
    try:
        first.start()
        produce_lines(bootstrap, source, lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
    finally:
        assert first.close(60)

    reader = Reader()
    streams = reader.streams = KafkaStreams(topology, {**config, "metrics.recording.level": "DEBUG",
                                                           "max.poll.records": 3})  # restore batches of 3
    streams.cleanup()  # the state dir is gone: every task restores its changelog
    streams.set_global_state_restore_listener(reader)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        ranges = 0
        for partition in (0, 1):
            seen = [s for s in reader.seen if s[1] == partition]
            (_, _, end, at_start), (_, _, start, _) = seen[0], seen[1]
            assert at_start == end - start > 0  # one store per task: its changelog's whole range
            ranges += end - start
            remaining = [s[3] for s in seen if s[0] == "batch"]
            assert remaining == [end - (s[2] + 1) for s in seen if s[0] == "batch"]
            assert remaining == sorted(remaining, reverse=True) and remaining[-1] == 0
            assert len(remaining) > 1, seen  # several batches
        got = streams.metrics().by_metric_name()
        restored = 0
        for partition in (0, 1):
            assert _by_partition(got, "restore-remaining-records-total", partition) == 0
            restored += _by_partition(got, "restore-total", partition)  # DEBUG
        assert restored == ranges  # no transaction markers under at_least_once: offsets are records
        assert restored >= len(expected)  # every word's latest count at least
        assert streams.metrics()["restore-remaining-records-total"] == 0
    finally:
        assert streams.close(60)
    info = KafkaStreams(topology, config)  # INFO: no DEBUG restore-total
    try:
        info.start()
        assert info.wait_for_state(State.RUNNING, timeout=60)
        names = {(m.name, m.group) for m in info.metrics().by_metric_name()}
        assert ("restore-remaining-records-total", "stream-task-metrics") in names
        assert ("restore-total", "stream-task-metrics") not in names
    finally:
        assert info.close(60)
