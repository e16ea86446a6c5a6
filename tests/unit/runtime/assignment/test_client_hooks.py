"""KafkaStreams' side of the assignment: _on_assignment (IQ metadata, SHUTDOWN_REQUESTED) and
SHUTDOWN_APPLICATION from the uncaught-exception handler; no broker, fake stream threads."""
from __future__ import annotations

from typing import ClassVar

import pytest

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from pystreams.runtime.assignment import SHUTDOWN_REQUESTED, AssignmentInfo
from pystreams.runtime.partitioning import default_partition
from pystreams.runtime.queries import UNAVAILABLE, HostInfo
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan

pytestmark = pytest.mark.unit


class FakeThread:
    """What KafkaStreams asks of a stream thread here."""

    started: ClassVar[list[FakeThread]] = []

    def __init__(self, streams=None, index=0, rejoin=True):
        self.running, self.rejoins, self.alive = True, 0, True
        self.assigned_once, self.rebalancing, self.name = True, False, f"t{index}"
        if rejoin:
            self.request_rejoin = self._rejoin

    def _rejoin(self):
        self.rejoins += 1

    def start(self):
        FakeThread.started.append(self)

    def shutdown(self):
        self.running = self.alive = False

    def join(self, timeout=None):
        pass

    def is_alive(self):
        return self.alive


def _streams(threads=2, rejoin=True):
    builder = StreamsBuilder()
    builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by_key().count(Materialized(name="counts"))
    app = KafkaStreams(builder.build(), {"application.id": "app", "bootstrap.servers": "unused:9"})
    sub = app.topology.subtopologies()[0]
    app.plan = TopologyPlan("app", [SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], 4,
                                                    {"counts": "app-counts-changelog"})], {"in": 4}, {},
                            {"app-counts-changelog": 4})
    app.threads = [FakeThread(app, i, rejoin) for i in range(threads)]
    app._set_state(State.REBALANCING)
    app._set_state(State.RUNNING)
    return app


def test_key_metadata_comes_from_the_latest_assignment():
    app = _streams()
    key = "alice"
    p = default_partition(Serdes.String().serializer().serialize("in", key), 4)
    info = AssignmentInfo(partitions_by_host={"a:1": [("in", p)], "b:2": [("in", (p + 1) % 4)]},
                          standby_partitions_by_host={"b:2": [("in", p)], "c:3": [("in", p)]})
    app._on_assignment(app.threads[0], info)
    meta = app.query_metadata_for_key("counts", key, Serdes.String().serializer())
    assert (meta.active_host, meta.partition) == (HostInfo("a", 1), p)
    assert meta.standby_hosts == {HostInfo("b", 2), HostInfo("c", 3)}
    app._on_assignment(app.threads[1], AssignmentInfo(partitions_by_host={"b:2": [("in", i) for i in range(4)]}))
    assert app.query_metadata_for_key("counts", key, Serdes.String().serializer()).active_host == HostInfo("b", 2)
    app._on_assignment(app.threads[1], AssignmentInfo(partitions_by_host={}))
    assert app.query_metadata_for_key("counts", key, Serdes.String().serializer()).active_host == UNAVAILABLE


def test_streams_metadata_names_every_instances_stores_and_partitions():
    app = _streams()
    app._on_assignment(app.threads[0], AssignmentInfo(
        partitions_by_host={"a:1": [("in", 0), ("in", 1)], "b:2": [("in", 2), ("in", 3)]},
        standby_partitions_by_host={"b:2": [("in", 0)]}))
    by_host = {m.host_info: m for m in app.metadata_for_all_streams_clients()}
    assert set(by_host) == {HostInfo("a", 1), HostInfo("b", 2)}
    assert by_host[HostInfo("a", 1)].topic_partitions == {("in", 0), ("in", 1)}
    assert by_host[HostInfo("a", 1)].state_store_names == {"counts"}
    assert by_host[HostInfo("b", 2)].standby_topic_partitions == {("in", 0)}
    assert by_host[HostInfo("b", 2)].standby_state_store_names == {"counts"}
    assert len(app.streams_metadata_for_store("counts")) == 2
    assert app.streams_metadata_for_store("other") == []


def test_shutdown_requested_in_an_assignment_stops_the_client_in_error():
    app = _streams()
    app._on_assignment(app.threads[0], AssignmentInfo(error_code=SHUTDOWN_REQUESTED))
    assert app.wait_for_state(State.ERROR, timeout=5)
    assert all(not t.running for t in app.threads)


def test_shutdown_application_asks_the_group_through_a_rejoin():
    app = _streams()
    app._handler = lambda e: StreamThreadExceptionResponse.SHUTDOWN_APPLICATION
    failed = app.threads[0]
    failed.alive = failed.running = False
    app._thread_failed(failed, RuntimeError("boom"))
    assert app.shutdown_requested == SHUTDOWN_REQUESTED
    assert app.threads[1].rejoins == 1 and app.state is State.RUNNING  # waits for the group's answer
    app._on_assignment(app.threads[1], AssignmentInfo(error_code=SHUTDOWN_REQUESTED))
    assert app.wait_for_state(State.ERROR, timeout=5)


def test_shutdown_application_with_no_live_thread_starts_one_to_carry_the_request():
    app = _streams(threads=1)
    app._handler = lambda e: StreamThreadExceptionResponse.SHUTDOWN_APPLICATION
    failed = app.threads[0]
    failed.alive = failed.running = False
    FakeThread.started.clear()
    app._thread_failed(failed, RuntimeError("boom"))
    assert app.shutdown_requested == SHUTDOWN_REQUESTED
    assert len(FakeThread.started) == 1 and app.threads == FakeThread.started


def test_shutdown_application_from_a_thread_that_cannot_rejoin_stops_only_this_client():
    """A failed thread that is not a group member (no request_rejoin, e.g. a global or other helper thread)
    cannot carry SHUTDOWN_REQUESTED to the group: this client goes to ERROR alone and asks nothing of the others.
    (This once ran with pystreams.assignor=librdkafka, removed in session 3: every stream thread now rejoins.)"""
    app = _streams(rejoin=False)
    app._handler = lambda e: StreamThreadExceptionResponse.SHUTDOWN_APPLICATION
    app._thread_failed(app.threads[0], RuntimeError("boom"))
    assert app.wait_for_state(State.ERROR, timeout=5)
    assert app.shutdown_requested == 0


def test_before_the_first_assignment_a_key_is_not_available():
    app = _streams()
    meta = app.query_metadata_for_key("counts", "alice", Serdes.String().serializer())
    assert meta.active_host == UNAVAILABLE and meta.standby_hosts == frozenset()
    assert app.metadata_for_all_streams_clients() == []
