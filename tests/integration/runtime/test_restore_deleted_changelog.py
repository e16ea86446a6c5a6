"""ChangelogReader when the changelog disappears under a restore, on both brokers: the changelog topic is deleted
(or deleted and re-created empty) after the restore started; the restore never hangs: deleted, it fails with a
StateStoreError that names the changelog, within the stall bound; re-created empty, the task is corrupted (Kafka's
TaskCorruptedException): its state is wiped and it is ready with the new, empty changelog's state."""
from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from pystreams.errors import StateStoreError
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


@pytest.mark.parametrize("recreate", [False, True], ids=["deleted", "recreated-empty"])
def test_a_changelog_deleted_during_its_restore_never_hangs(kafka_broker, tmp_path, recreate):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"restore-gone-{uuid.uuid4().hex[:8]}-changelog"
    create_topics(bootstrap, 1, topic)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 10})
    for i in range(2000):
        producer.produce(topic, key=b"k%d" % i, value=b"v" * 1000, partition=0)
    producer.flush(30)
    config = StreamsConfig({"application.id": f"app-{uuid.uuid4().hex[:8]}", "bootstrap.servers": bootstrap}
                           ).restore_consumer_config("restore-test")
    # small fetches, so that most of the changelog is still on the broker when it is deleted
    consumer = Consumer({**config, "queued.min.messages": 1, "queued.max.messages.kbytes": 1,
                         "message.max.bytes": 2048, "fetch.max.bytes": 2048, "max.partition.fetch.bytes": 1024})
    try:
        store, tp = Store(), (topic, 0)
        task_dir = tmp_path / "0_0"
        task_dir.mkdir()
        at = SimpleNamespace(id=TaskId(0, 0), task=store, task_dir=str(task_dir), persistent_changelogs={tp: "s"},
                             changelog_next={}, checkpointed={}, collector=None, restored_records=0,
                             changelog_partitions=lambda: {tp: "s"})

        def wipe_and_revive() -> None:
            at.task = Store()

        at.wipe_and_revive = wipe_and_revive
        reader = ChangelogReader(consumer, eos=False, stall_timeout_s=8.0)  # re-checks the end after 2 s
        assert reader.add(at, [("in", 0)]) is False
        deadline = time.monotonic() + 30
        while not store.restored:  # the restore is under way before the changelog goes
            assert time.monotonic() < deadline, ("the restore never started", reader.restoring)
            reader.restore(10, 0.2)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.delete_topics([topic])[topic].result(30)
        if recreate:
            deadline = time.monotonic() + 30
            while True:
                try:
                    create_topics(bootstrap, 1, topic)
                    break
                except Exception as e:  # noqa: BLE001 - the deletion is still in progress
                    assert time.monotonic() < deadline, f"{topic} could not be re-created: {e}"
                    time.sleep(0.5)
        started = time.monotonic()
        outcome: Any = None
        while outcome is None and time.monotonic() - started < 40:
            try:
                _, ready = reader.restore(10, 0.2)
                if ready:
                    outcome = ready
            except StateStoreError as e:
                outcome = e
        took = time.monotonic() - started
        if recreate:  # out of range (or the end re-read after 2 s is below what was restored): wiped, empty, ready
            assert [rt.at for rt in outcome] == [at]
            assert took < 8.0 and 0 < len(store.restored) < 2000
            assert reader.corrupted == 1 and at.task is not store and at.task.restored == []
        else:  # nothing to read any more: a clear error once the stall bound (8 s) is reached, not a hang
            assert isinstance(outcome, StateStoreError), outcome
            assert f"restore of changelog {topic}-0 (task 0_0, store s) made no progress for" in str(outcome)
            assert "end offset 2000, last consumer error: its end offset cannot be read" in str(outcome)
            assert 7.5 <= took < 20.0
    finally:
        consumer.close()
