"""ChangelogReader with a real read_committed restore consumer on both brokers: an exactly_once_v2 changelog whose
last offset is a commit marker, or whose last records are an aborted transaction, is restored (committed records
only) and the task is ready, with the partition EOF the restore consumer is configured with and without it (the
consumer's position alone): they pin the librdkafka behaviour the reader's "done" test relies on."""
from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from pystreams.processor.task_id import TaskId
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.restore import ChangelogReader
from tests.integration.runtime.helpers import create_topics

pytestmark = pytest.mark.integration


class Store:
    def __init__(self) -> None:
        self.restored: list[tuple[bytes, int]] = []

    def checkpointed_offsets(self) -> dict[str, int]:
        return {}

    def changelog_topics(self) -> dict[str, str]:
        return {}

    def restore(self, store: str, records: list[tuple[Any, ...]]) -> None:
        self.restored.extend((r[1], r[3]) for r in records)


def _changelog(bootstrap: str, topic: str, last: str) -> None:
    """Two transactions: 5 records committed (marker at 5), then 3 more (6-8) committed or aborted (marker 9)."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"tx-{topic}"})
    producer.init_transactions(30)
    for values, outcome in (([b"c0", b"c1", b"c2", b"c3", b"c4"], "commit"), ([b"t0", b"t1", b"t2"], last)):
        producer.begin_transaction()
        for v in values:
            producer.produce(topic, key=b"k", value=v, partition=0)
        producer.flush(30)
        if outcome == "commit":
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)


@pytest.mark.parametrize("eof", [True, False], ids=["eof", "position-only"])
@pytest.mark.parametrize("last", ["commit", "abort"])
def test_an_eos_changelog_ending_in_a_marker_is_restored(kafka_broker, tmp_path, last, eof):
    bootstrap = kafka_broker.bootstrap_servers
    topic = f"restore-{last}-{uuid.uuid4().hex[:8]}-changelog"
    create_topics(bootstrap, 1, topic)
    _changelog(bootstrap, topic, last)
    config = StreamsConfig({"application.id": f"app-{uuid.uuid4().hex[:8]}", "bootstrap.servers": bootstrap,
                            "processing.guarantee": "exactly_once_v2"}).restore_consumer_config("restore-test")
    assert config["isolation.level"] == "read_committed"
    consumer = Consumer({**config, "enable.partition.eof": eof})
    try:
        store = Store()
        tp = (topic, 0)
        task_dir = tmp_path / "0_0"
        task_dir.mkdir()
        at = SimpleNamespace(id=TaskId(0, 0), task=store, task_dir=str(task_dir), persistent_changelogs={tp: "s"},
                             changelog_next={}, checkpointed={}, collector=None, restored_records=0,
                             changelog_partitions=lambda: {tp: "s"})
        reader = ChangelogReader(consumer, eos=True, stall_timeout_s=20.0)
        assert reader.add(at, [("in", 0)]) is False
        assert at.changelog_next == {tp: 10}  # end offset = the log end, past the last marker (offset 9)
        ready: list[Any] = []
        deadline = time.monotonic() + 15
        while not ready:
            assert time.monotonic() < deadline, (store.restored, reader.restoring[TaskId(0, 0)].changelogs)
            _, ready = reader.restore(1000, 0.2)
        expected = [b"c0", b"c1", b"c2", b"c3", b"c4"] + ([b"t0", b"t1", b"t2"] if last == "commit" else [])
        assert [v for v, _ in store.restored] == expected
        assert [o for _, o in store.restored] == [0, 1, 2, 3, 4, 6, 7, 8][:len(expected)]
        assert [rt.at for rt in ready] == [at] and not reader
    finally:
        consumer.close()
