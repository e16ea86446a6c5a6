"""Evidence for the restore consumer's auto.offset.reset=error (Kafka Streams sets "none" on its restore consumer;
librdkafka spells it "error"), on both brokers: a position outside the log is reported as a message error
(_AUTO_OFFSET_RESET) and the consumer does not move on its own: no record of the partition is handed out until
it is assigned again, so the reader sees every out-of-range case exactly instead of inferring it from a reset:
an offset past the log end (checkpoint past the end of a re-created changelog), an offset below the log start
(DeleteRecords past the checkpoint), and a position that the topic being deleted and re-created under a running
fetch leaves past the new end."""
from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Producer,
    TopicPartition,
)

from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.restore import OUT_OF_RANGE, restore_consumer_config
from tests.integration.runtime.helpers import (
    SMALL_FETCHES,
    create_topics,
    delete_records,
    fill_changelog,
    recreate_topic,
    restore_until_started,
    restoring_task,
)

pytestmark = pytest.mark.integration


def _produce(bootstrap: str, topic: str, n: int, start: int = 0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i in range(start, start + n):
        producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0)
    assert producer.flush(30) == 0


def _consumer(bootstrap: str, **extra: object) -> Consumer:
    config = StreamsConfig({"application.id": f"app-{uuid.uuid4().hex[:8]}", "bootstrap.servers": bootstrap})
    return Consumer({**restore_consumer_config(config, "offset-reset-test"), **extra})


def _drain(consumer: Consumer, seconds: float, end: int | None = None) -> tuple[list[int], list[int]]:
    """(offsets of records, error codes) handed out in `seconds` (partition EOFs left out); with `end` (the log end
    offset), done as soon as the partition's EOF comes after the record at end - 1 (instead of waiting out `seconds`
    when everything was read)."""
    offsets: list[int] = []
    errors: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for m in consumer.consume(100, 0.2):
            err = m.error()
            if err is None:
                offsets.append(int(m.offset()))
            elif err.code() != KafkaError._PARTITION_EOF:
                errors.append(err.code())
            elif end is not None and offsets and offsets[-1] == end - 1:
                return offsets, errors
        if errors and time.monotonic() > deadline - seconds / 2:
            break
    return offsets, errors


def test_the_restore_consumer_is_configured_with_error_and_a_user_override_cannot_change_it():
    config = StreamsConfig({"application.id": "a", "bootstrap.servers": "127.0.0.1:1",
                            "restore.consumer.auto.offset.reset": "earliest"})
    assert restore_consumer_config(config, "c")["auto.offset.reset"] == "error"


@pytest.mark.parametrize("where", ["past-the-end", "below-the-log-start"])
def test_an_out_of_range_offset_is_an_error_and_the_consumer_does_not_move(kafka_broker, where):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"reset-{uuid.uuid4().hex[:8]}"
    create_topics(bootstrap, 1, topic)
    _produce(bootstrap, topic, 30)
    if where == "below-the-log-start":
        delete_records(bootstrap, topic, 20)
    consumer = _consumer(bootstrap)
    try:
        consumer.assign([TopicPartition(topic, 0, 50 if where == "past-the-end" else 5)])
        offsets, errors = _drain(consumer, 6.0)
        assert offsets == [] and errors and set(errors) <= OUT_OF_RANGE, (offsets, errors)
        # assigned again from the beginning (what a wiped store does), it reads what the log has
        consumer.unassign()
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        offsets, errors = _drain(consumer, 4.0, end=30)
        first = 0 if where == "past-the-end" else 20
        assert offsets == list(range(first, 30)) and errors == []
    finally:
        consumer.close()


def test_a_topic_deleted_and_recreated_under_a_running_fetch_is_an_error(kafka_broker):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"reset-{uuid.uuid4().hex[:8]}"
    create_topics(bootstrap, 1, topic)
    _produce(bootstrap, topic, 200)
    consumer = _consumer(bootstrap)
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        offsets, errors = _drain(consumer, 3.0, end=200)
        assert offsets == list(range(200)) and errors == []
        recreate_topic(bootstrap, topic)
        _produce(bootstrap, topic, 5)  # the new topic ends at 5, below the position 200
        got: list[int] = []
        seen: list[int] = []
        deadline = time.monotonic() + 30
        while not (set(seen) & OUT_OF_RANGE) and time.monotonic() < deadline:
            offsets, errors = _drain(consumer, 1.0)
            got += offsets
            seen += errors
        assert set(seen) & OUT_OF_RANGE, seen  # other errors (unknown partition while it was gone) may come first
        assert got == []  # never silently read from the new topic's beginning
    finally:
        consumer.close()


@pytest.mark.parametrize("change", ["delete-records", "recreated"])
def test_the_changelog_reader_with_error_wipes_exactly_when_the_position_goes_out_of_range(kafka_broker, tmp_path,
                                                                                          change):
    """ChangelogReader on the restore consumer as Kafka configures it: records deleted past the restore's position,
    or the changelog re-created with fewer records, under a running restore: the error (not an inferred jump)
    marks the task corrupted; after the wipe it restores exactly what the changelog holds now."""
    from pystreams.runtime.restore import ChangelogReader

    bootstrap = kafka_broker.bootstrap_servers
    topic = f"reset-{uuid.uuid4().hex[:8]}-changelog"
    create_topics(bootstrap, 1, topic)
    fill_changelog(bootstrap, topic)
    consumer = _consumer(bootstrap, **SMALL_FETCHES)  # most of the changelog is still there when it changes
    try:
        at = restoring_task(str(tmp_path), topic)
        first = at.task
        reader = ChangelogReader(consumer, eos=False, stall_timeout_s=20.0)
        assert reader.add(at, [("in", 0)]) is False
        restore_until_started(reader, first)
        assert first.restored[-1] < 1500
        if change == "delete-records":
            delete_records(bootstrap, topic, 1500)
            expected = list(range(1500, 2000))
        else:
            recreate_topic(bootstrap, topic)
            _produce(bootstrap, topic, 5)
            expected = list(range(5))
        ready: list = []
        deadline = time.monotonic() + 40
        while not ready and time.monotonic() < deadline:
            ready = reader.restore(100, 0.2)[1]
        assert [rt.at for rt in ready] == [at]
        assert reader.corrupted == 1 and at.task is not first
        assert at.task.restored == expected
    finally:
        consumer.close()
