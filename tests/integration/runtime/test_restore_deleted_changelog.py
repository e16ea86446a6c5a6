"""ChangelogReader when the changelog disappears under a restore, on both brokers: the changelog topic is deleted
(or deleted and re-created empty) after the restore started; the restore never hangs: deleted, it fails with a
StateStoreError that names the changelog, within the stall bound; re-created empty, the task is corrupted (Kafka's
TaskCorruptedException): its state is wiped and it is ready with the new, empty changelog's state."""
from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from pystreams.errors import StateStoreError
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.restore import ChangelogReader
from tests.integration.runtime.helpers import (
    SMALL_FETCHES,
    create_after_deletion,
    create_topics,
    fill_changelog,
    restore_until_started,
    restoring_task,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("recreate", [False, True], ids=["deleted", "recreated-empty"])
def test_a_changelog_deleted_during_its_restore_never_hangs(kafka_broker, tmp_path, recreate):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"restore-gone-{uuid.uuid4().hex[:8]}-changelog"
    create_topics(bootstrap, 1, topic)
    fill_changelog(bootstrap, topic)
    config = StreamsConfig({"application.id": f"app-{uuid.uuid4().hex[:8]}", "bootstrap.servers": bootstrap}
                           ).restore_consumer_config("restore-test")
    consumer = Consumer({**config, **SMALL_FETCHES})  # most of the changelog is still there when it is deleted
    try:
        task_dir = tmp_path / "0_0"
        task_dir.mkdir()
        at = restoring_task(str(task_dir), topic)
        store = at.task
        reader = ChangelogReader(consumer, eos=False, stall_timeout_s=8.0)  # re-checks the end after 2 s
        assert reader.add(at, [("in", 0)]) is False
        restore_until_started(reader, store)  # the restore is under way before the changelog goes
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.delete_topics([topic])[topic].result(30)
        if recreate:
            create_after_deletion(bootstrap, topic)
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
