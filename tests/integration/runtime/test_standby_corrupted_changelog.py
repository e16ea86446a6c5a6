"""StandbyManager with a real changelog consumer, on both brokers: a standby whose changelog position becomes
invalid is corrupted, its state wiped and rebuilt from the changelog as it is now. Re-created with fewer records
(its position is past the new end: reset to offset 0), or DeleteRecords past its checkpoint (reset to the new log
start). Real RocksDB stores."""
from __future__ import annotations

import logging
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.processor.task_id import TaskId
from pystreams.runtime import StreamsConfig, standby
from pystreams.runtime.standby import StandbyManager
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan
from tests.integration.runtime.helpers import create_topics, delete_records, recreate_topic

pytestmark = pytest.mark.integration

T = TaskId(0, 0)
VALUE = b"\x00" * 8


def _manager(bootstrap: str, state_dir: str, app_id: str, changelog: str) -> StandbyManager:
    builder = StreamsBuilder()
    builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by_key().count(Materialized(name="counts"))
    topology = builder.build()
    config = StreamsConfig({"application.id": app_id, "state.dir": state_dir, "bootstrap.servers": bootstrap})
    sub = topology.subtopologies()[0]
    plan = TopologyPlan(app_id, [SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], 1,
                                                {"counts": changelog})], {"in": 1}, {}, {changelog: 1})
    thread = SimpleNamespace(name="t-0", plan=plan, config=config, topology=topology,
                             streams=SimpleNamespace(app_configs=config.app_configs(), global_state=None))
    return StandbyManager(thread)


def _produce(bootstrap: str, topic: str, keys: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key in keys:
        producer.produce(topic, key=key, value=VALUE, partition=0)
    assert producer.flush(30) == 0


def _keys(m: StandbyManager) -> set[bytes]:
    return {k for k, _v in m.tasks[T].task._innermost("counts").all()}


def _poll_until(m: StandbyManager, done: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        m.poll()
        time.sleep(0.05)
    assert done(), (m.corrupted, m.tasks[T].offsets if T in m.tasks else None)


@pytest.mark.parametrize("change", ["recreated-shorter", "deleted-records"])
def test_a_standby_whose_changelog_position_became_invalid_is_wiped(kafka_broker, tmp_path, monkeypatch, caplog,
                                                                    change):
    monkeypatch.setattr(standby, "RETRY_INTERVAL_S", 0.0)
    bootstrap = kafka_broker.bootstrap_servers
    app_id = f"standby-{uuid.uuid4().hex[:8]}"
    changelog = f"{app_id}-counts-changelog"
    create_topics(bootstrap, 1, changelog)  # cleanup.policy=delete: DeleteRecords is allowed on both brokers
    _produce(bootstrap, changelog, [b"old%d" % i for i in range(10)])
    m = _manager(bootstrap, str(tmp_path), app_id, changelog)
    caplog.set_level(logging.WARNING, logger="pystreams.runtime")
    try:
        m.assign({T: [(changelog, 0)]})
        _poll_until(m, lambda: m.tasks[T].offsets.get((changelog, 0)) == 9)
        m.assign({})  # closed with its checkpoint (9): its changelog changes meanwhile
        if change == "recreated-shorter":
            recreate_topic(bootstrap, changelog)
            _produce(bootstrap, changelog, [b"new%d" % i for i in range(3)])
            expected = {b"new0", b"new1", b"new2"}
        else:
            _produce(bootstrap, changelog, [b"new%d" % i for i in range(10, 20)])
            delete_records(bootstrap, changelog, 15)  # checks the new log start is 15
            expected = {b"new%d" % i for i in range(15, 20)}
        m.assign({T: [(changelog, 0)]})
        _poll_until(m, lambda: m.corrupted == 1 and _keys(m) == expected)
        assert "standby task 0_0 is corrupted" in caplog.text and "its state is wiped" in caplog.text
    finally:
        m.close()
