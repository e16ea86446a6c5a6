"""StandbyManager driven by the assignment: opens assigned standbys, applies changelog records, reports live
offsets, hands the state dir over (checkpoint, unlock) when a standby goes away; no broker (a fake consumer)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from confluent_kafka import OFFSET_BEGINNING

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.processor.task_id import TaskId
from pystreams.runtime import StreamsConfig, standby
from pystreams.runtime.assignment import task_offset_sums
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint
from pystreams.runtime.standby import StandbyManager
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan

pytestmark = pytest.mark.unit
CHANGELOG = "app-counts-changelog"


class FakeMessage:
    def __init__(self, partition, offset, key, value):
        self._p, self._o, self._k, self._v = partition, offset, key, value

    def error(self):
        return None

    def topic(self):
        return CHANGELOG

    def partition(self):
        return self._p

    def key(self):
        return self._k

    def value(self):
        return self._v

    def timestamp(self):
        return (1, 1000 + self._o)

    def offset(self):
        return self._o


class FakeConsumer:
    def __init__(self):
        self.assigned, self.queue, self.closed = [], [], False

    def assign(self, tps):
        self.assigned = [(tp.topic, tp.partition, tp.offset) for tp in tps]

    def consume(self, num_messages, timeout):
        out, self.queue = self.queue, []
        return out

    def close(self):
        self.closed = True


@pytest.fixture
def manager(tmp_path, monkeypatch):
    monkeypatch.setattr(standby, "RETRY_INTERVAL_S", 0.0)
    builder = StreamsBuilder()
    builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by_key().count(Materialized(name="counts"))
    topology = builder.build()
    config = StreamsConfig({"application.id": "app", "state.dir": str(tmp_path), "bootstrap.servers": "x:1"})
    sub = topology.subtopologies()[0]
    plan = TopologyPlan("app", [SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], 2,
                                                {"counts": CHANGELOG})], {"in": 2}, {}, {CHANGELOG: 2})
    thread = SimpleNamespace(name="t-0", plan=plan, config=config, topology=topology,
                             streams=SimpleNamespace(app_configs=config.app_configs(), global_state=None))
    m = StandbyManager(thread)
    m.consumer = FakeConsumer()
    yield m
    m.close()


def test_assigned_standbys_follow_their_changelog_and_report_live_offsets(manager, tmp_path):
    t = TaskId(0, 1)
    manager.assign({t: [(CHANGELOG, 1)]})
    assert manager.running_standbys() == {t}
    assert manager.consumer.assigned == [(CHANGELOG, 1, OFFSET_BEGINNING)]
    manager.consumer.queue = [FakeMessage(1, o, f"k{o}".encode(), b"\x00" * 8) for o in range(5)]
    assert manager.poll() == 5
    assert manager.tasks[t].offsets == {(CHANGELOG, 1): 4}
    assert task_offset_sums(str(tmp_path), "app", []) == {t: 5}  # live, before any checkpoint
    manager.assign({})  # e.g. it became active on this thread: closed first, state dir handed over
    assert manager.running_standbys() == frozenset()
    assert read_checkpoint(str(tmp_path / "app" / "0_1")) == {(CHANGELOG, 1): 4}
    lock = TaskDirLock(str(tmp_path / "app" / "0_1"))
    assert lock.try_lock()  # released
    lock.unlock()
    manager.assign({t: [(CHANGELOG, 1)]})  # back again: goes on after the checkpoint
    assert manager.consumer.assigned == [(CHANGELOG, 1, 5)]


def test_a_standby_whose_dir_is_still_held_opens_once_it_is_released(manager, tmp_path):
    t = TaskId(0, 0)
    held = TaskDirLock(str(tmp_path / "app" / "0_0"))
    assert held.try_lock()  # its active task has not closed yet
    manager.assign({t: [(CHANGELOG, 0)]})
    assert manager.running_standbys() == frozenset()
    manager.poll()
    assert manager.running_standbys() == frozenset()
    held.unlock()
    manager.poll()
    assert manager.running_standbys() == {t}
    assert manager.consumer.assigned == [(CHANGELOG, 0, OFFSET_BEGINNING)]


def test_close_releases_everything(manager, tmp_path):
    manager.assign({TaskId(0, 0): [(CHANGELOG, 0)], TaskId(0, 1): [(CHANGELOG, 1)]})
    consumer = manager.consumer
    manager.close()
    assert consumer.closed and manager.running_standbys() == frozenset()
    for name in ("0_0", "0_1"):
        lock = TaskDirLock(str(tmp_path / "app" / name))
        assert lock.try_lock()
        lock.unlock()
