"""A count app's standby set-up without a broker, shared by the standby unit tests (assignment/test_standby_manager,
test_standby_corruption, test_restore_listener_standby_global) and test_task_revive: the topology and config of
app `app` counting topic `in` into store `counts` (changelog app-counts-changelog, 2 partitions), a fake changelog
consumer and its messages, and a StandbyManager on a stand-in stream thread."""
from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.runtime import StreamsConfig, standby
from pystreams.runtime.standby import StandbyManager
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan

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


def count_app(tmp_path: Any) -> tuple[Any, StreamsConfig, Any]:
    """(topology, config, its one sub-topology) of the count app, its state dir tmp_path."""
    builder = StreamsBuilder()
    builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by_key().count(Materialized(name="counts"))
    topology = builder.build()
    config = StreamsConfig({"application.id": "app", "state.dir": str(tmp_path), "bootstrap.servers": "x:1"})
    return topology, config, topology.subtopologies()[0]


def standby_manager(tmp_path: Any, monkeypatch: Any, consumer: Any, **streams: Any) -> StandbyManager:
    """A StandbyManager for the count app's two tasks reading `consumer`, retrying a held state dir at once;
    `streams`: more attributes of the stand-in KafkaStreams (e.g. _standby_listener). The caller closes it."""
    monkeypatch.setattr(standby, "RETRY_INTERVAL_S", 0.0)
    topology, config, sub = count_app(tmp_path)
    plan = TopologyPlan("app", [SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], 2,
                                                {"counts": CHANGELOG})], {"in": 2}, {}, {CHANGELOG: 2})
    thread = SimpleNamespace(name="t-0", plan=plan, config=config, topology=topology,
                             streams=SimpleNamespace(app_configs=config.app_configs(), global_state=None,
                                                     **streams))
    m = StandbyManager(thread)
    m.consumer = consumer
    return m


@pytest.fixture(name="manager")
def manager_fixture(tmp_path: Any, monkeypatch: Any) -> Iterator[StandbyManager]:
    """`manager`: a count task's standbys (RocksDB) on a thread of app `app`, fed by a FakeConsumer (a test module
    imports manager_fixture to have it)."""
    m = standby_manager(tmp_path, monkeypatch, FakeConsumer())
    yield m
    m.close()
