"""ChangelogReader with a real restore consumer when records are deleted under a running restore, on both brokers:
DeleteRecords past the restore's position (librdkafka's fetch gets OFFSET_OUT_OF_RANGE and, with
auto.offset.reset=earliest, silently moves to the new log start). The task is corrupted: its state is wiped and
the changelog restored from its new log start, not the old records plus the new tail."""
from __future__ import annotations

import logging
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from pystreams.processor.task_id import TaskId
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.restore import ChangelogReader
from tests.integration.runtime.helpers import create_topics

pytestmark = pytest.mark.integration


class Store:
    def __init__(self) -> None:
        self.restored: list[int] = []

    def checkpointed_offsets(self) -> dict[str, int]:
        return {}

    def changelog_topics(self) -> dict[str, str]:
        return {}

    def restore(self, store: str, records: list[tuple[Any, ...]]) -> None:
        self.restored.extend(r[3] for r in records)


def test_records_deleted_past_the_restore_position_wipe_and_restore_from_the_new_log_start(kafka_broker, tmp_path,
                                                                                         caplog):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"restore-truncated-{uuid.uuid4().hex[:8]}-changelog"
    create_topics(bootstrap, 1, topic)  # cleanup.policy=delete: DeleteRecords is allowed on both brokers
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 10})
    for i in range(2000):
        producer.produce(topic, key=b"k%d" % i, value=b"v" * 1000, partition=0)
    assert producer.flush(30) == 0
    config = StreamsConfig({"application.id": f"app-{uuid.uuid4().hex[:8]}", "bootstrap.servers": bootstrap}
                           ).restore_consumer_config("restore-test")
    # small fetches, so that most of the changelog is still on the broker when records are deleted
    consumer = Consumer({**config, "queued.min.messages": 1, "queued.max.messages.kbytes": 1,
                         "message.max.bytes": 2048, "fetch.max.bytes": 2048, "max.partition.fetch.bytes": 1024})
    try:
        tp = (topic, 0)
        at = SimpleNamespace(id=TaskId(0, 0), task=Store(), task_dir=str(tmp_path), persistent_changelogs={tp: "s"},
                             changelog_next={}, checkpointed={}, collector=None, restored_records=0,
                             changelog_partitions=lambda: {tp: "s"})
        first = at.task

        def wipe_and_revive() -> None:
            at.task = Store()

        at.wipe_and_revive = wipe_and_revive
        reader = ChangelogReader(consumer, eos=False, stall_timeout_s=20.0)
        assert reader.add(at, [("in", 0)]) is False
        deadline = time.monotonic() + 30
        while not first.restored:  # the restore is under way before records are deleted
            assert time.monotonic() < deadline, ("the restore never started", reader.restoring)
            reader.restore(10, 0.2)
        assert first.restored[-1] < 1500
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.delete_records([TopicPartition(topic, 0, 1500)], request_timeout=30).values():
            assert future.result(30).low_watermark == 1500
        caplog.set_level(logging.WARNING, logger="pystreams.runtime")
        ready: list[Any] = []
        deadline = time.monotonic() + 30
        while not ready and time.monotonic() < deadline:
            ready = reader.restore(100, 0.2)[1]
        assert [rt.at for rt in ready] == [at]
        assert reader.corrupted == 1 and "task 0_0 is corrupted" in caplog.text
        assert at.task is not first and at.task.restored == list(range(1500, 2000))
        assert max(first.restored) < 1500  # the old store got nothing past the deleted range
    finally:
        consumer.close()
