"""Kafka Streams' client, thread and task metrics of a real app by Kafka's names, groups and tags
(KafkaStreams.metrics().by_metric_name()) and on /metrics (kafka_streams_<group>_<name>): state and client-state
through CREATED -> RUNNING -> NOT_RUNNING, alive-stream-threads, the tasks created, polls and the loop's ratios,
the source and sink nodes' record-e2e-latency, and failed-stream-threads after REPLACE_THREAD (the failed thread is
gone, the count stays)."""
from __future__ import annotations

import time
import urllib.request

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from pystreams.runtime.client_metrics import metric_name
from tests.integration.runtime.helpers import (
    create_topics,
    free_port,
    produce_lines,
    read_all,
    unique,
)

pytestmark = pytest.mark.integration


def _upper(source: str, sink: str, poison: list[str] | None = None):
    def upper(value: str) -> str:
        if poison is not None and value == "poison" and not poison:
            poison.append(value)
            raise ValueError("poison")
        return value.upper()

    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
     .map_values(upper)
     .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return builder.build()


def _scrape(port: int) -> dict[str, list[tuple[str, float]]]:
    """Prometheus name -> [(labels text, value)] of one /metrics scrape."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        if line.startswith("kafka_") and "{" in line:
            name, rest = line.split("{", 1)
            labels, value = rest.rsplit("} ", 1)
            out.setdefault(name, []).append((labels, float(value)))
    return out


def _wait(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_client_thread_and_task_metrics_of_a_running_app(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("kmn"), unique("in"), unique("out")
    create_topics(bootstrap, 2, source, sink)
    port = free_port()
    app = KafkaStreams(_upper(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "metrics.http.port": port, "metrics.http.host": "127.0.0.1"})
    client = {"client-id": app.client_id}
    state = metric_name("state", "stream-metrics", client)
    assert app.metrics().by_metric_name()[state] == "CREATED"
    before = time.time() * 1000
    try:
        app.start()
        client = {"client-id": app.client_id}  # start() may settle the client id (process id from the state dir)
        state = metric_name("state", "stream-metrics", client)
        produce_lines(bootstrap, source, [f"w{i}" for i in range(100)])
        assert len(read_all(bootstrap, sink, 100, timeout=60)) == 100
        _wait(lambda: app.metrics()["process-total"] == 100 and app.state is State.RUNNING, "not processed")
        got = app.metrics().by_metric_name()
        assert got[state] == "RUNNING"
        assert got[metric_name("client-state", "stream-metrics", {**client, "process-id": app.process_id})] == 2
        assert got[metric_name("alive-stream-threads", "stream-metrics", client)] == 1
        assert got[metric_name("failed-stream-threads", "stream-metrics", client)] == 0
        assert got[metric_name("application-id", "stream-metrics", client)] == app_id
        assert source in got[metric_name("topology-description", "stream-metrics", client)]
        (thread,) = app.threads
        tags = {"thread-id": thread.name}
        assert got[metric_name("task-created-total", "stream-thread-metrics", tags)] == 2  # 2 partitions, 2 tasks
        assert got[metric_name("task-closed-total", "stream-thread-metrics", tags)] == 0
        assert got[metric_name("poll-total", "stream-thread-metrics", tags)] > 0
        assert got[metric_name("poll-rate", "stream-thread-metrics", tags)] > 0
        assert 0 <= got[metric_name("poll-latency-avg", "stream-thread-metrics", tags)] <= got[
            metric_name("poll-latency-max", "stream-thread-metrics", tags)]
        for ratio in ("process-ratio", "poll-ratio", "commit-ratio", "punctuate-ratio"):
            assert 0 <= got[metric_name(ratio, "stream-thread-metrics", tags)] <= 1, ratio
        # the loop reports punctuation (this app has no punctuator: measured, and 0)
        assert got[metric_name("punctuate-total", "stream-thread-metrics", tags)] == 0
        assert got[metric_name("blocked-time-ns-total", "stream-thread-metrics", tags)] > 0  # it waited for input
        assert before <= got[metric_name("thread-start-time", "stream-thread-metrics", tags)] <= time.time() * 1000
        for task in ("0_0", "0_1"):
            task_tags = {**tags, "task-id": task}
            # the source and the sink (Kafka's terminal node) of each task: records stamped at produce time, a run
            # shorter than 60 s
            for node_id in ("KSTREAM-SOURCE-0000000000", "KSTREAM-SINK-0000000002"):
                node = {**task_tags, "processor-node-id": node_id}
                e2e = [got[metric_name(f"record-e2e-latency-{s}", "stream-processor-node-metrics", node)]
                       for s in ("min", "avg", "max")]
                assert 0 <= e2e[0] <= e2e[1] <= e2e[2] < 60_000, (node_id, e2e)
            assert got[metric_name("dropped-records-total", "stream-task-metrics", task_tags)] == 0
            assert got[metric_name("restore-remaining-records-total", "stream-task-metrics", task_tags)] == 0
        lag = {p: metric_name("records-lag", "consumer-fetch-manager-metrics",
                              {"client-id": f"{thread.name}-consumer", "topic": source, "partition": str(p)})
               for p in (0, 1)}
        _wait(lambda: all(app.metrics().by_metric_name().get(name) == 0 for name in lag.values()),
              "records-lag per input partition never read 0 after the input was processed")
        scrape = _scrape(port)
        assert sorted(v for _, v in scrape["kafka_consumer_consumer_fetch_manager_metrics_records_lag"]) == [0, 0]
        assert scrape["kafka_streams_stream_metrics_state_info"] == [
            (f'client_id="{app.client_id}",state="RUNNING"', 1.0)]
        assert scrape["kafka_streams_stream_metrics_alive_stream_threads"] == [(f'client_id="{app.client_id}"', 1.0)]
        assert scrape["kafka_streams_stream_thread_metrics_task_created_total"] == [
            (f'thread_id="{thread.name}"', 2.0)]
        assert scrape["kafka_streams_stream_thread_metrics_process_total"] == [(f'thread_id="{thread.name}"', 100.0)]
        assert sorted(labels for labels, _ in scrape["kafka_streams_stream_task_metrics_dropped_records_total"]) == [
            f'task_id="0_0",thread_id="{thread.name}"', f'task_id="0_1",thread_id="{thread.name}"']
    finally:
        assert app.close(60)
    after = app.metrics()
    assert after["alive-stream-threads"] == 0 and after["client-state"] == 4  # NOT_RUNNING
    assert after.by_metric_name()[state] == "NOT_RUNNING"


def test_failed_stream_threads_counts_a_replaced_thread(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    source, sink = unique("in"), unique("out")
    create_topics(bootstrap, 1, source, sink)
    app = KafkaStreams(_upper(source, sink, poison=[]), {
        "application.id": unique("kmf"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100})
    app.set_uncaught_exception_handler(lambda e: StreamThreadExceptionResponse.REPLACE_THREAD)
    try:
        app.start()
        produce_lines(bootstrap, source, ["a", "poison", "b"])
        # at least once: the replacement may redo "a" (its commit had not happened)
        assert {v for _k, v in read_all(bootstrap, sink, 3, timeout=60)} == {b"A", b"POISON", b"B"}
        _wait(lambda: [t.name.rsplit("-", 1)[1] for t in app.threads] == ["2"], "thread 1 was not replaced")
        got = app.metrics().by_metric_name()
        client = {"client-id": app.client_id}
        assert got[metric_name("failed-stream-threads", "stream-metrics", client)] == 1
        assert got[metric_name("alive-stream-threads", "stream-metrics", client)] == 1
        assert app.metrics()["failed-stream-threads"] == 1
    finally:
        assert app.close(60)
