"""A changelog that no longer matches an app's local state between two runs, on both brokers (Kafka's
TaskCorruptedException from the restore consumer): re-created with other, fewer records than the checkpoint
covers, or DeleteRecords past the checkpoint. The restarted app logs that the task was corrupted and wiped, and
its store equals the changelog as it is now, not the old local data. And a task closed while its changelog was
empty checkpoints Kafka's OFFSET_UNKNOWN (-4); a restart then restores the changelog from its beginning."""
from __future__ import annotations

import logging
import time
from typing import Any, Self

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, delete_records, recreate_topic, unique

pytestmark = pytest.mark.integration

STORE = "latest"


def _topology(source: str) -> Any:
    from pystreams import Consumed, Grouped, Materialized, Serdes, StreamsBuilder

    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .reduce(lambda _old, new: new, Materialized(name=STORE, key_serde=Serdes.String(),
                                                   value_serde=Serdes.String())))
    return builder.build()


class App:
    """One run of the latest-value-per-key app: start, wait RUNNING, query, close cleanly."""

    def __init__(self, bootstrap: str, app_id: str, source: str, state_dir: str,
                 guarantee: str = "at_least_once") -> None:
        self.streams = KafkaStreams(_topology(source), {
            "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": state_dir,
            "commit.interval.ms": 100, "statestore.cache.max.bytes": 0, "processing.guarantee": guarantee})

    def __enter__(self) -> Self:
        try:
            self.streams.start()
            assert self.streams.wait_for_state(State.RUNNING, timeout=60)
        except BaseException:
            self.streams.close(60)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.streams.close(60)

    def contents(self) -> dict[str, str]:
        return dict(self.streams.store(STORE).all())

    def wait_for(self, expected: dict[str, str], timeout: float = 30.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        got = self.contents()
        while got != expected and time.monotonic() < deadline:
            time.sleep(0.1)
            got = self.contents()
        return got


def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key, value in records:
        producer.produce(topic, key=key, value=value, partition=0)
    assert producer.flush(30) == 0


def _changelog(bootstrap: str, topic: str) -> list[tuple[int, bytes, bytes, int]]:
    """Every record of partition 0: (offset, key, value, timestamp)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe"), "enable.auto.commit": False,
                         "enable.partition.eof": True})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        consumer.assign([TopicPartition(topic, 0, low)])
        out: list[tuple[int, bytes, bytes, int]] = []
        deadline = time.monotonic() + 20
        at_end = low >= high
        while not at_end:  # to the partition's EOF (under EOS its last offsets are transaction markers)
            assert time.monotonic() < deadline, f"{topic} not read to its end {high}: {len(out)} records"
            for m in consumer.consume(500, 0.3):
                if m.error() is None:
                    out.append((m.offset(), m.key(), m.value(), m.timestamp()[1]))
                elif m.error().code() == KafkaError._PARTITION_EOF:
                    at_end = True
        return out
    finally:
        consumer.close()


def _end(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)[1])
    finally:
        consumer.close()


def _checkpoint(state_dir: Any, app_id: str) -> str:
    return (state_dir / app_id / "0_0" / ".checkpoint").read_text()


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_a_changelog_recreated_with_other_contents_wipes_the_local_state(kafka_broker, tmp_path, caplog, guarantee):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("corrupt-recreated"), unique("in")
    changelog = f"{app_id}-{STORE}-changelog"
    create_topics(bootstrap, 1, source)
    with App(bootstrap, app_id, source, str(tmp_path), guarantee) as app:
        _produce(bootstrap, source, [(b"k%d" % i, b"new-%d" % i) for i in range(3)])
        assert app.wait_for({f"k{i}": f"new-{i}" for i in range(3)}) == {f"k{i}": f"new-{i}" for i in range(3)}
        old = {f"k{i}": f"old-{i}" for i in range(12)}
        _produce(bootstrap, source, [(k.encode(), v.encode()) for k, v in old.items()])
        assert app.wait_for(old) == old
    records = _changelog(bootstrap, changelog)
    assert len(records) == 15
    # under EOS the checkpoint is the end offset - 1, transaction markers included
    checkpointed = records[-1][0] if guarantee == "at_least_once" else _end(bootstrap, changelog) - 1
    assert _checkpoint(tmp_path, app_id) == f"0\n1\n{changelog} 0 {checkpointed}\n"
    # deleted and re-created with other contents (the first 3 records: k0-k2 = new-0..2), shorter than the
    # checkpoint covers: the restore consumer's offset 15 is out of range
    recreate_topic(bootstrap, changelog)
    _produce(bootstrap, changelog, [(k, v) for _o, k, v, _t in records[:3]])
    caplog.set_level(logging.INFO, logger="pystreams.runtime")
    with App(bootstrap, app_id, source, str(tmp_path), guarantee) as app:
        assert app.contents() == {f"k{i}": f"new-{i}" for i in range(3)}  # not the old local k0-k11 = old-*
        assert app.streams.metrics()["restore-total"] == 3
    assert "task 0_0 is corrupted (changelog " in caplog.text
    assert f"{changelog}-0: checkpointed offset {checkpointed} is out of its range 0-3" in caplog.text
    assert "its state is wiped and restored from the beginning" in caplog.text
    assert _checkpoint(tmp_path, app_id) == f"0\n1\n{changelog} 0 {_end(bootstrap, changelog) - 1}\n"


def test_delete_records_past_the_checkpoint_wipes_and_restores_from_the_log_start(kafka_broker, tmp_path, caplog):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("corrupt-deleted"), unique("in")
    changelog = f"{app_id}-{STORE}-changelog"
    create_topics(bootstrap, 1, source)
    first = {f"k{i}": "a" for i in range(10)}
    with App(bootstrap, app_id, source, str(tmp_path)) as app:
        _produce(bootstrap, source, [(k.encode(), v.encode()) for k, v in first.items()])
        assert app.wait_for(first) == first
    assert _checkpoint(tmp_path, app_id) == f"0\n1\n{changelog} 0 9\n"
    # while this instance was down another one wrote 10 more changelog records (k20-k29, same value bytes as the
    # app wrote), then records below offset 15 were deleted: the checkpointed position 10 is below the log start
    value = _changelog(bootstrap, changelog)[0][2]
    _produce(bootstrap, changelog, [(b"k%d" % i, value) for i in range(20, 30)])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    # Apache Kafka refuses DeleteRecords on a compact-only topic (POLICY_VIOLATION): as for a windowed store's
    # changelog, whose retention deletes old segments, the policy is compact,delete
    resource = ConfigResource(ResourceType.TOPIC, changelog, incremental_configs=[
        ConfigEntry("cleanup.policy", "compact,delete", incremental_operation=AlterConfigOpType.SET)])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)
    delete_records(bootstrap, changelog, 15)  # checks the new log start is 15
    caplog.set_level(logging.INFO, logger="pystreams.runtime")
    with App(bootstrap, app_id, source, str(tmp_path)) as app:
        assert app.contents() == {f"k{i}": "a" for i in range(25, 30)}  # the log from 15 on, no old k0-k9
        assert app.streams.metrics()["restore-total"] == 5
    assert f"{changelog}-0: checkpointed offset 9 is out of its range 15-20" in caplog.text
    assert "its state is wiped and restored from the beginning" in caplog.text


def test_an_empty_changelog_checkpoints_offset_unknown_and_a_restart_restores_from_the_beginning(kafka_broker,
                                                                                                 tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("empty-changelog"), unique("in")
    changelog = f"{app_id}-{STORE}-changelog"
    create_topics(bootstrap, 1, source)
    with App(bootstrap, app_id, source, str(tmp_path / "a")):
        pass  # no input: the changelog stays empty
    assert _checkpoint(tmp_path / "a", app_id) == f"0\n1\n{changelog} 0 -4\n"  # Kafka's OFFSET_UNKNOWN
    # another instance (its own state.dir) writes to the changelog meanwhile
    with App(bootstrap, app_id, source, str(tmp_path / "b")) as app:
        _produce(bootstrap, source, [(b"k1", b"x"), (b"k2", b"y")])
        assert app.wait_for({"k1": "x", "k2": "y"}) == {"k1": "x", "k2": "y"}
    with App(bootstrap, app_id, source, str(tmp_path / "a")) as app:
        assert app.contents() == {"k1": "x", "k2": "y"}
        assert app.streams.metrics()["restore-total"] == 2
    assert _checkpoint(tmp_path / "a", app_id) == f"0\n1\n{changelog} 0 1\n"
