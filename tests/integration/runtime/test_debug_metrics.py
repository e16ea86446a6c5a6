"""metrics.recording.level=DEBUG on a real word count (our broker): Kafka's DEBUG task metrics (process-*,
process-latency, record-lateness, active-buffer-count) and source node process-total, the INFO ones (active-process-ratio, the thread's
process-records / poll-records), the RocksDB store's stream-state-metrics and its record cache's hit-ratio, by
Kafka's names and tags in KafkaStreams.metrics().by_metric_name() and on /metrics."""
from __future__ import annotations

import time
import urllib.request

import pytest

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.client_metrics import metric_name
from tests.integration.runtime.helpers import (
    create_topics,
    free_port,
    produce_lines,
    read_counts_until,
    unique,
    word_counts,
)

pytestmark = pytest.mark.integration

LINES = [f"a b w{i % 7}" for i in range(60)]


def _word_count(source: str, sink: str):
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
     .flat_map_values(lambda line: line.split())
     .group_by(lambda _key, word: word, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
     .count(Materialized(name="counts"))
     .to_stream()
     .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()


def _scrape(port: int) -> dict[str, list[tuple[str, float]]]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        if line.startswith("kafka_") and "{" in line:
            name, rest = line.split("{", 1)
            labels, value = rest.rsplit("} ", 1)
            out.setdefault(name, []).append((labels, float(value)))
    return out


def test_debug_level_task_store_and_cache_metrics_of_a_word_count(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    app_id, source, sink = unique("dbg"), unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    port = free_port()
    app = KafkaStreams(_word_count(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "metrics.recording.level": "DEBUG", "metrics.http.port": port,
        "metrics.http.host": "127.0.0.1"})
    try:
        app.start()
        produce_lines(bootstrap, source, LINES)
        expected = word_counts(LINES)
        read_counts_until(bootstrap, sink, lambda counts: counts == expected, timeout=60)
        words = sum(expected.values())
        deadline = time.monotonic() + 30
        while not (app.metrics()["process-total"] == len(LINES) + words and app.state is State.RUNNING):
            assert time.monotonic() < deadline, "not all records processed"
            time.sleep(0.1)
        got = app.metrics().by_metric_name()
        (thread,) = app.threads
        tags = {"thread-id": thread.name}
        for name in ("process-records-avg", "process-records-max", "poll-records-avg", "poll-records-max"):
            assert got[metric_name(name, "stream-thread-metrics", tags)] > 0, name
        assert got[metric_name("poll-records-max", "stream-thread-metrics", tags)] <= len(LINES) + words
        # sub-topology 0 reads the lines, 1 the repartitioned words; process-total counts records at the sources
        processed = {task: got[metric_name("process-total", "stream-task-metrics", {**tags, "task-id": task})]
                     for task in ("0_0", "1_0")}
        assert processed == {"0_0": len(LINES), "1_0": words}
        source = {**tags, "task-id": "0_0", "processor-node-id": "KSTREAM-SOURCE-0000000000"}
        assert got[metric_name("process-total", "stream-processor-node-metrics", source)] == len(LINES)
        for task in ("0_0", "1_0"):
            task_tags = {**tags, "task-id": task}
            assert got[metric_name("process-latency-avg", "stream-task-metrics", task_tags)] > 0  # ns
            assert 0 <= got[metric_name("active-process-ratio", "stream-task-metrics", task_tags)] <= 1
            assert got[metric_name("record-lateness-max", "stream-task-metrics", task_tags)] >= 0
            assert got[metric_name("active-buffer-count", "stream-task-metrics", task_tags)] == 0
        store = {**tags, "task-id": "1_0", "rocksdb-state-id": "counts"}
        assert got[metric_name("put-rate", "stream-state-metrics", store)] > 0
        assert got[metric_name("get-latency-avg", "stream-state-metrics", store)] > 0
        assert got[metric_name("flush-rate", "stream-state-metrics", store)] > 0  # the commits flushed it
        cache = {**tags, "task-id": "1_0", "record-cache-id": "counts"}
        # 7 + 2 distinct words, everything else a hit on the cache
        assert 0.5 < got[metric_name("hit-ratio-max", "stream-record-cache-metrics", cache)] <= 1
        scrape = _scrape(port)
        assert next(v for labels, v in scrape["kafka_streams_stream_state_metrics_put_rate"]
                    if 'rocksdb_state_id="counts"' in labels and 'task_id="1_0"' in labels) > 0
        assert scrape["kafka_streams_stream_task_metrics_process_total"]
        assert scrape["kafka_streams_stream_record_cache_metrics_hit_ratio_avg"]
        assert scrape["kafka_streams_stream_thread_metrics_poll_records_avg"]
    finally:
        app.close(10)
