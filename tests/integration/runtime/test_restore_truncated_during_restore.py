"""ChangelogReader with a real restore consumer when records are deleted under a running restore, on both brokers:
DeleteRecords past the restore's position (librdkafka's fetch gets OFFSET_OUT_OF_RANGE and, with
auto.offset.reset=earliest, silently moves to the new log start). The task is corrupted: its state is wiped and
the changelog restored from its new log start, not the old records plus the new tail."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer

from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.restore import ChangelogReader
from tests.integration.runtime.helpers import (
    SMALL_FETCHES,
    create_topics,
    delete_records,
    fill_changelog,
    restore_until_started,
    restoring_task,
)

pytestmark = pytest.mark.integration


def test_records_deleted_past_the_restore_position_wipe_and_restore_from_the_new_log_start(kafka_broker, tmp_path,
                                                                                         caplog):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"restore-truncated-{uuid.uuid4().hex[:8]}-changelog"
    create_topics(bootstrap, 1, topic)  # cleanup.policy=delete: DeleteRecords is allowed on both brokers
    fill_changelog(bootstrap, topic)
    config = StreamsConfig({"application.id": f"app-{uuid.uuid4().hex[:8]}", "bootstrap.servers": bootstrap}
                           ).restore_consumer_config("restore-test")
    consumer = Consumer({**config, **SMALL_FETCHES})  # most of the changelog is still there when records go
    try:
        at = restoring_task(str(tmp_path), topic)
        first = at.task
        reader = ChangelogReader(consumer, eos=False, stall_timeout_s=20.0)
        assert reader.add(at, [("in", 0)]) is False
        restore_until_started(reader, first)  # the restore is under way before records are deleted
        assert first.restored[-1] < 1500
        delete_records(bootstrap, topic, 1500)  # checks the new log start is 1500
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
