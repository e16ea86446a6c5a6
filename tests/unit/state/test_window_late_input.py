"""The intermittent window-benchmark timeout on Apache Kafka (session 5), reproduced deterministically.

Cause: the benchmark's preload producer (bench/streams/harness.py preload) was not idempotent, so librdkafka could
retry a failed produce request (a partition's first batch right after the topic was created, a busy broker) after
later batches of the same partition were written: that partition's first seconds of event time landed behind later
records. A windowed count with no grace drops them as late (Kafka's rule, and what Kafka Streams does too), so one
task's first windows never got their counts: the harness waited for them until its timeout.

Here: the window count over a partition whose first batch arrives after later ones drops exactly those records, and
the harness' timeout diagnostic names them (missing, at the first window starts); the preload producer now keeps
each partition's order (idempotent)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from bench.streams import harness
from bench.streams.workloads import WINDOW_MS, Expected, InputRecord, generate, window_key
from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


def _window_counts(records: list[InputRecord]) -> dict[str, int]:
    """The benchmark's window topology (bench/streams/systems/pystreams_app.py) over one partition: latest outputs."""
    b = StreamsBuilder()
    (b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.JSON()))
        .map_values(lambda v: v["word"])
        .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .windowed_by(TimeWindows.of_size_with_no_grace(timedelta(milliseconds=WINDOW_MS)))
        .count(Materialized(name="window-counts"))
        .to_stream(lambda wk, _v: f"{wk.key}@{wk.window.start}")
        .to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    with TopologyTestDriver(b.build(), {"application.id": "late-input"}) as d:
        src = d.create_input_topic("in", Serdes.String(), Serdes.ByteArray())
        out = d.create_output_topic("out", Serdes.String(), Serdes.Long())
        for r in records:
            src.pipe_input(r.key.decode(), r.value, r.timestamp)
        d.advance_wall_clock_time(60_000)  # a commit: the record cache flushes
        return {r.key: r.value for r in out.read_records_to_list()}


def test_a_first_batch_written_late_loses_the_first_windows() -> None:
    end = 1_800_000_000_000
    # the benchmark's records (generate), 100 ms apart instead of 10: 300 s of event time, five windows
    data = [InputRecord(r.key, r.value, end - (2_999 - i) * 100) for i, r in enumerate(generate(3_000, 40, end))]
    expected = Expected("window")
    expected.add(data)
    in_order = _window_counts(data)
    assert in_order == dict(expected.latest)  # in partition order every record is counted
    # a retried first batch (the first 1,500 records, 150 s of event time) appended after the rest
    reordered = data[1_500:] + data[:1_500]
    latest = _window_counts(reordered)
    late_windows = {window_key(r.key.decode(), r.timestamp) for r in data[:1_500]}
    counted = Counter(window_key(r.key.decode(), r.timestamp) for r in data[1_500:])
    assert latest == dict(counted)  # exactly the late batch is dropped (no grace)
    report = harness.describe_mismatch(dict(expected.latest), latest)
    missing = sorted(w for w in late_windows if w not in counted)
    assert missing and report.startswith(f"{len(late_windows)} wrong: {len(missing)} missing, "
                                         f"{len(late_windows) - len(missing)} low, 0 high")


def test_describe_mismatch_groups_by_window_start() -> None:
    expected = {"a@0": 3, "b@0": 2, "a@60000": 5, "b@60000": 1, "c@120000": 4}
    latest = {"a@0": 3, "b@0": 1, "a@60000": 6, "c@120000": 4}
    report = harness.describe_mismatch(expected, latest)
    assert report.startswith("3 wrong: 1 missing, 1 low, 1 high")
    # window starts in seconds from the last one (120 s): missing/low/high per start
    assert "-120: 0/1/0, -60: 1/0/1" in report
    assert "b@0 want 2 got 1" in report and "b@60000 want 1 got None" in report
    assert harness.describe_mismatch(expected, dict(expected)) == "no wrong results"
    count_keys = harness.describe_mismatch({"w1": 2, "w2": 3}, {"w1": 2})  # the count workload: no window starts
    assert count_keys.startswith("1 wrong: 1 missing, 0 low, 0 high") and "window start" not in count_keys


def test_preload_keeps_each_partitions_order(monkeypatch: Any) -> None:
    """Ordering across retries takes librdkafka's idempotent producer (or one request in flight); the preload and
    the latency producer must have it, or a retried batch lands behind later ones."""
    configs: list[dict[str, Any]] = []

    class FakeProducer:
        def __init__(self, config: dict[str, Any]) -> None:
            configs.append(config)

        def produce(self, *args: Any, **kwargs: Any) -> None:
            pass

        def poll(self, _timeout: float) -> int:
            return 0

        def flush(self, _timeout: float) -> int:
            return 0

    monkeypatch.setattr(harness, "Producer", FakeProducer)
    records = generate(10, 3, 1_800_000_000_000)
    harness.preload("127.0.0.1:1", "t", records)
    harness.paced_produce("127.0.0.1:1", "t", records, 1e9)
    assert len(configs) == 2
    for config in configs:
        assert config.get("enable.idempotence") is True or config.get("max.in.flight.requests.per.connection") == 1
