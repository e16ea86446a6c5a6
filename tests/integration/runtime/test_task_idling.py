"""Task idling (max.task.idle.ms) on a real consumer, both brokers: a stream-table left join whose table topic
already holds records (older than every stream record) must see them, as in Kafka Streams, even when the table
partition's records arrive over many fetches while the stream's arrive in the first one.

The main consumer's max.partition.fetch.bytes is small and each table record is its own batch, so a fetch brings
about one table record, while the stream records are one batch and come whole in the first fetch. Without task
idling the task processes the stream records as soon as they are buffered, before most table records: left-join
results with no table value, which Kafka Streams never gives (its default max.task.idle.ms=0 waits while the
empty table partition has fetched lag > 0 or unknown). max.task.idle.ms=-1 keeps today's behaviour."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams
from tests.integration.runtime.helpers import create_topics, read_latest_until, unique

pytestmark = pytest.mark.integration

N = 60
STRINGS = Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())


def _produce_inputs(bootstrap: str, stream: str, table: str) -> None:
    base = int(time.time() * 1000) - 60_000
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i in range(N):  # one batch per table record: a fetch of max.partition.fetch.bytes brings about one
        producer.produce(table, key=f"k{i}", value=f"t{i}:" + "x" * 1500, timestamp=base + i)
        assert producer.flush(30) == 0
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 200})
    for i in range(N):  # one batch: every stream record is in the first fetch of the stream partition
        producer.produce(stream, key=f"k{i}", value=f"s{i}", timestamp=base + 10_000 + i)
    assert producer.flush(30) == 0


def _read(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> dict[str, str]:
    return read_latest_until(bootstrap, topic, lambda out: len(out) >= expected, timeout)


def _join_app(bootstrap: str, state_dir: str, app_id: str, stream: str, table: str, out: str,
              idle_ms: int | None, guarantee: str = "at_least_once") -> KafkaStreams:
    builder = StreamsBuilder()
    customers = builder.table(table, STRINGS)
    (builder.stream(stream, STRINGS)
        .left_join(customers, lambda s, t: f"{s}|{t.split(':')[0] if t is not None else None}")
        .to(out, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": state_dir,
              "commit.interval.ms": 100, "consumer.max.partition.fetch.bytes": 1024,
              "consumer.session.timeout.ms": 10000, "processing.guarantee": guarantee}
    if idle_ms is not None:
        config["max.task.idle.ms"] = idle_ms
    return KafkaStreams(builder.build(), config)


def _run_join(bootstrap: str, state_dir: str, idle_ms: int | None, guarantee: str = "at_least_once"
              ) -> dict[str, str]:
    stream, table, out = unique("orders"), unique("customers"), unique("enriched")
    create_topics(bootstrap, 1, stream, table, out)
    _produce_inputs(bootstrap, stream, table)
    app = _join_app(bootstrap, state_dir, unique("idling"), stream, table, out, idle_ms, guarantee)
    try:
        app.start()
        return _read(bootstrap, out, N)
    finally:
        assert app.close(60)


def _wait_processed(app: KafkaStreams, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while app.metrics()["process-total"] < n:
        assert time.monotonic() < deadline, (
            f"the task processed {app.metrics()['process-total']} of {n} records: it waits for a partition "
            "that has nothing to fetch")
        time.sleep(0.1)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])  # EOS: read_committed input
def test_a_stream_table_join_waits_for_the_table_records_already_on_the_broker(kafka_broker, tmp_path, guarantee):
    got = _run_join(kafka_broker.bootstrap_servers, str(tmp_path / "s"), None, guarantee)  # Kafka's default: 0
    assert len(got) == N, f"{N - len(got)} join results missing"
    unjoined = sorted(k for k, v in got.items() if v.endswith("|None"))
    assert not unjoined, f"{len(unjoined)} of {N} stream records joined before their table record: {unjoined[:10]}"
    assert got == {f"k{i}": f"s{i}|t{i}" for i in range(N)}


def test_max_task_idle_ms_minus_one_does_not_wait(kafka_broker, tmp_path):
    """The same input with idling disabled processes the stream records as they come: some are joined before
    their table record arrived (the case the default exists for). Shows the test above can fail."""
    got = _run_join(kafka_broker.bootstrap_servers, str(tmp_path / "s"), -1)
    assert len(got) == N, f"{N - len(got)} join results missing"
    assert any(v.endswith("|None") for v in got.values()), f"every record joined even without idling: {got}"


def test_empty_or_caught_up_partitions_do_not_block_the_task_also_after_a_restart(kafka_broker, tmp_path):
    """librdkafka has no position for a partition nothing was consumed from (Java's consumer knows it from the
    committed offset), so that partition's lag is counted from the offset it was assigned at. Run 1: the stream
    topic was never written (assigned at the log start, watermarks 0/0): the table records are processed anyway.
    Run 2, same application.id: the stream partition is assigned at its committed end offset and gets nothing new:
    the new table records are processed, and a later stream record sees them."""
    bootstrap = kafka_broker.bootstrap_servers
    stream, table, out, app_id = unique("orders"), unique("customers"), unique("enriched"), unique("idling")
    create_topics(bootstrap, 1, stream, table, out)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(N):
        producer.produce(table, key=f"k{i}", value=f"t{i}")
    assert producer.flush(30) == 0
    app = _join_app(bootstrap, str(tmp_path / "s"), app_id, stream, table, out, None)
    try:
        app.start()
        _wait_processed(app, N)
        for i in range(3):
            producer.produce(stream, key=f"k{i}", value=f"s{i}")
        assert producer.flush(30) == 0
        _wait_processed(app, N + 3)
    finally:
        assert app.close(60)
    assert _read(bootstrap, out, 3) == {f"k{i}": f"s{i}|t{i}" for i in range(3)}
    for i in range(N):
        producer.produce(table, key=f"k{i}", value=f"u{i}")
    assert producer.flush(30) == 0
    app = _join_app(bootstrap, str(tmp_path / "s"), app_id, stream, table, out, None)
    try:
        app.start()
        _wait_processed(app, N)
        producer.produce(stream, key="k7", value="late")
        assert producer.flush(30) == 0
        got = _read(bootstrap, out, 4)
    finally:
        assert app.close(60)
    assert got["k7"] == "late|u7"
