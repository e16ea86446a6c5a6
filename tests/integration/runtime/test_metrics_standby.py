"""metrics.recording.level=DEBUG with num.standby.replicas=1 on a real broker (both), two instances of a word count
and a windowed word count: each standby task's stream-task-metrics update-total / update-rate (Kafka's StandbyTask
update sensor, KIP-869) count the changelog records it applied (its changelog's end offset, once caught up), on the
standby's instance only, and its store reports its stream-state-metrics (RocksDB's estimate-num-keys); where the
windowed count runs, its record cache reports stream-record-cache-metrics hit-ratio (Kafka's NamedCache.get of
fetch(key, window start)); the running count store reports RocksDB's statistics-based metrics (KIP-471)."""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows
from pystreams.processor.task_id import TaskId
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.client_metrics import metric_name
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    read_counts_until,
    unique,
    word_counts,
)

pytestmark = pytest.mark.integration

#: the two aggregations' sub-topologies (each after its own repartition topic) and their stores
STORES = {TaskId(1, 0): "counts", TaskId(2, 0): "windows"}
LINES = [f"a b w{i % 7}" for i in range(60)]


def _topology(source: str, sink: str) -> Any:
    builder = StreamsBuilder()
    words = (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
             .flat_map_values(lambda line: line.split())
             .group_by(lambda _key, word: word, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String())))
    words.count(Materialized(name="counts")).to_stream().to(
        sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long()))
    words.windowed_by(TimeWindows.of_size_with_no_grace(timedelta(minutes=10))).count(Materialized(name="windows"))
    return builder.build()


def _holder(apps: list[KafkaStreams], task: TaskId, standby: bool) -> KafkaStreams | None:
    for app in apps:
        for thread in app.threads:
            held = (thread._standby.tasks if thread._standby is not None else {}) if standby else thread.tasks
            if task in held:
                return app
    return None


def _wait(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _end_offset(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("ends")})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)[1])
    finally:
        consumer.close()


def _tags(app: KafkaStreams, task: TaskId) -> dict[str, str]:
    (thread,) = app.threads
    return {"thread-id": thread.name, "task-id": str(task)}


def test_standby_update_metrics_and_window_cache_hit_ratio(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("msb"), unique("text"), unique("counts")
    create_topics(bootstrap, 1, source, sink)
    apps = [KafkaStreams(_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
        "num.standby.replicas": 1, "commit.interval.ms": 100, "metrics.recording.level": "DEBUG",
        "probing.rebalance.interval.ms": 60000}) for i in range(2)]
    try:
        for app in apps:
            app.start()
        _wait(lambda: all(a.state is State.RUNNING for a in apps) and all(
            _holder(apps, task, standby) is not None for task in STORES for standby in (False, True)),
            "each aggregation's task runs on one instance, its standby on the other")
        produce_lines(bootstrap, source, LINES)
        expected = word_counts(LINES)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        for task, store in STORES.items():
            keeper, active = _holder(apps, task, True), _holder(apps, task, False)
            assert keeper is not None and active is not None and keeper is not active
            tags = _tags(keeper, task)
            update_total = metric_name("update-total", "stream-task-metrics", tags)
            changelog = f"{app_id}-{store}-changelog"
            # the standby caught up: every record of its changelog applied (at least once: no markers, no gaps)
            _wait(lambda: keeper.metrics().by_metric_name().get(update_total) == _end_offset(bootstrap, changelog),
                  f"the standby's update-total never reached the end offset of {changelog}")
            got = keeper.metrics().by_metric_name()
            assert got[update_total] > 0
            assert got[metric_name("update-rate", "stream-task-metrics", tags)] > 0
            # a standby has only its update sensor among the task metrics (Kafka's StandbyTask)
            assert metric_name("process-total", "stream-task-metrics", tags) not in got
            on_active = active.metrics().by_metric_name()
            assert metric_name("update-total", "stream-task-metrics", _tags(active, task)) not in on_active
        running = _holder(apps, TaskId(1, 0), False)
        assert running is not None
        store = {**_tags(running, TaskId(1, 0)), "rocksdb-state-id": "counts"}
        got = running.metrics().by_metric_name()
        # RocksDB's statistics-based metrics (KIP-471, DEBUG), first recorded at this read: the counts written
        assert got[metric_name("bytes-written-total", "stream-state-metrics", store)] > 0
        assert 0 <= got[metric_name("memtable-hit-ratio", "stream-state-metrics", store)] <= 1
        counts = _holder(apps, TaskId(1, 0), True)
        assert counts is not None
        got = counts.metrics().by_metric_name()
        tags = _tags(counts, TaskId(1, 0))
        # the standby's store reports RocksDB's properties; the estimate counts a word once per changelog update
        # still in the memtable: at least every word
        keys = got[metric_name("estimate-num-keys", "stream-state-metrics", {**tags, "rocksdb-state-id": "counts"})]
        assert len(expected) <= keys <= got[metric_name("update-total", "stream-task-metrics", tags)]
        windows = _holder(apps, TaskId(2, 0), False)
        assert windows is not None
        cache = {**_tags(windows, TaskId(2, 0)), "record-cache-id": "windows"}
        on_active = windows.metrics().by_metric_name()
        # 9 words in one window: all but the first read of each window's key are hits
        assert 0.5 < on_active[metric_name("hit-ratio-max", "stream-record-cache-metrics", cache)] <= 1
        assert on_active[metric_name("hit-ratio-min", "stream-record-cache-metrics", cache)] > 0
    finally:
        for app in apps:
            app.close(60)
