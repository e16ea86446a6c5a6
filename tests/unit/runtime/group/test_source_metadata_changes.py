"""A source topic's metadata changes while the application runs (audit s7 H2/H3), without sockets: the member's
refresh (once per metadata.max.age.ms) rejoins on a new partition count or a deleted topic; the leader plans again
from the rebalance's metadata (new tasks for a stateless sub-topology, ASSIGNMENT_ERROR with Kafka's "invalid
partitions" text for a stateful one, INCOMPLETE_SOURCE_TOPIC_METADATA for a missing source topic); the error
assignment round-trips and every member's poll_group raises it after revoking its partitions."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    ASSIGNMENT_ERROR,
    INCOMPLETE_SOURCE_TOPIC_METADATA,
    AssignmentInfo,
    SubscriptionInfo,
)
from pystreams.runtime.assignment.assignor import (
    TaskAssignmentError,
    assignment_failure,
)
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.client import JoinResult
from pystreams.runtime.group.member_types import MemberMetadata
from pystreams.runtime.group.membership import Rebalance
from pystreams.runtime.group.streams_member import StreamsMember
from pystreams.runtime.group.thread_rebalance import poll_group
from pystreams.runtime.topics import (
    MissingSourceTopicError,
    adopt_plan,
    plan_from_metadata,
)
from tests.unit.runtime.group.fakes import FakeClient, MetadataClient
from tests.unit.runtime.group.test_thread_rebalance import FakeThread

pytestmark = pytest.mark.unit

STRINGS = {"key_serde": Serdes.String(), "value_serde": Serdes.String()}


def _stateless() -> Any:
    b = StreamsBuilder()
    b.stream("in", Consumed(**STRINGS)).filter(lambda k, v: True).to("out", Produced(**STRINGS))
    return b.build()


def _stateful() -> Any:
    b = StreamsBuilder()
    b.stream("in", Consumed(**STRINGS)).group_by_key().count().to_stream().map_values(str).to(
        "out", Produced(**STRINGS))
    return b.build()


def _member(tmp_path: Any, topology: Any, counts: dict[str, int], process_id: str = "p1"
            ) -> tuple[StreamsMember, MetadataClient]:
    plan = plan_from_metadata(topology, "app", dict(counts))
    config = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path),
                            "metadata.max.age.ms": 1000})
    thread = SimpleNamespace(name=f"t-{process_id}", plan=plan, topology=topology, config=config, tasks={},
                             _standby=None, streams=SimpleNamespace(process_id=process_id, shutdown_requested=0))
    client = MetadataClient(dict(counts))
    m = StreamsMember(thread, (client, FakeClient()))
    m.member.config.heartbeat_thread = False
    client.script("join", JoinResult(1, "m1", "other", "stream", []))  # joined, as a follower
    client.script("sync", b"")
    m.poll()
    assert not m.member.rejoin_needed
    return m, client


def _members(*ids: str) -> list[MemberMetadata]:
    return [MemberMetadata(i, None, ["in"], SubscriptionInfo(f"proc-{i}", None).encode(), []) for i in ids]


def _due(m: StreamsMember) -> None:
    m._next_refresh = 0.0


def test_the_refresh_rejoins_on_a_new_partition_count_once_per_metadata_max_age(tmp_path: Any) -> None:
    m, client = _member(tmp_path, _stateless(), {"in": 2, "out": 1})
    m._maybe_refresh_metadata()
    assert client.reads == 0  # metadata.max.age.ms not over yet: no request
    _due(m)
    m._maybe_refresh_metadata()
    assert client.reads == 1 and not m.member.rejoin_needed  # nothing changed
    client.counts["in"] = 4
    m._maybe_refresh_metadata()
    assert client.reads == 1  # the next refresh is a second away
    _due(m)
    m._maybe_refresh_metadata()
    assert m.member.rejoin_needed
    assert "in has 4 partitions (was 2)" in m.member._rejoin_reason


def test_the_refresh_rejoins_when_a_source_topic_is_deleted(tmp_path: Any) -> None:
    m, client = _member(tmp_path, _stateless(), {"in": 2, "out": 1})
    del client.counts["in"]
    _due(m)
    m._maybe_refresh_metadata()
    assert m.member.rejoin_needed and "in deleted (was 2)" in m.member._rejoin_reason


def test_the_leader_makes_tasks_of_a_stateless_sources_new_partitions(tmp_path: Any) -> None:
    m, client = _member(tmp_path, _stateless(), {"in": 2, "out": 1})
    client.counts["in"] = 4
    result = m.leader_assign(_members("a", "b"))
    tasks = {t for _, data in result.values() for t in AssignmentInfo.decode(data).active_tasks}
    assert tasks == {TaskId(0, p) for p in range(4)}
    assert sorted(tp for parts, _ in result.values() for tp in parts) == [("in", p) for p in range(4)]
    assert m.thread.plan.subtopologies[0].partitions == 4 and m.thread.plan.topic_partitions["in"] == 4


def test_the_leader_fails_every_member_when_a_stateful_source_grew(tmp_path: Any) -> None:
    m, client = _member(tmp_path, _stateful(), {"in": 2, "out": 1})
    changelog = next(iter(m.thread.plan.changelog_topics))
    client.counts[changelog] = 2
    client.counts["in"] = 4
    result = m.leader_assign(_members("a", "b"))
    assert set(result) == {"a", "b"}
    for parts, data in result.values():
        info = AssignmentInfo.decode(data)
        assert parts == [] and info.error_code == ASSIGNMENT_ERROR and not info.active_tasks
        assert f"Existing internal topic {changelog} has invalid partitions: expected: 4; actual: 2" in \
            info.error_message
        assert "pystreams reset --application-id app --input-topics in" in info.error_message
    assert m.thread.plan.subtopologies[0].partitions == 2  # the plan is not taken over


def test_the_leader_answers_a_missing_source_topic_with_incomplete_source_topic_metadata(tmp_path: Any) -> None:
    m, client = _member(tmp_path, _stateful(), {"in": 2, "out": 1})
    del client.counts["in"]
    result = m.leader_assign(_members("a", "b"))
    infos = [AssignmentInfo.decode(data) for _, data in result.values()]
    assert [i.error_code for i in infos] == [INCOMPLETE_SOURCE_TOPIC_METADATA] * 2
    failure = assignment_failure(infos[0])
    assert isinstance(failure, MissingSourceTopicError)
    assert str(failure) == "One or more source topics were missing during rebalance (missing source topics: in)"


def test_an_error_assignment_round_trips_with_its_message() -> None:
    info = AssignmentInfo(error_code=ASSIGNMENT_ERROR, error_message="Existing internal topic x has invalid ...")
    assert AssignmentInfo.decode(info.encode()) == info
    assert AssignmentInfo.decode(AssignmentInfo(error_message="ignored without an error").encode()).error_message == ""
    failure = assignment_failure(info)
    assert isinstance(failure, TaskAssignmentError) and str(failure) == info.error_message
    assert assignment_failure(AssignmentInfo()) is None


def test_poll_group_revokes_then_raises_the_leaders_error() -> None:
    info = AssignmentInfo(error_code=ASSIGNMENT_ERROR, error_message="Existing internal topic x has invalid partitions")
    thread = FakeThread((Rebalance(3, revoked=frozenset({("in", 0)}), assigned=frozenset()), info),
                        tasks={"t0": [("in", 0)]})
    thread._on_revoke = lambda c, ps: (thread.steps.append(("revoke", None)), thread.tasks.clear())
    with pytest.raises(TaskAssignmentError, match="invalid partitions"):
        poll_group(thread)
    assert [s for s, _ in thread.steps] == ["revoke", "unassign"]  # committed and closed first; no hook, no assign


def test_a_follower_takes_the_new_counts_after_a_good_assignment(tmp_path: Any) -> None:
    m, client = _member(tmp_path, _stateless(), {"in": 2, "out": 1})
    client.counts["in"] = 4
    _due(m)
    m._maybe_refresh_metadata()
    assert m.member.rejoin_needed
    assert m.thread.plan.subtopologies[0].partitions == 2  # not before the leader's assignment
    client.script("join", JoinResult(2, "m1", "other", "stream", []))
    client.script("sync", b"")
    m.poll()
    assert m.thread.plan.subtopologies[0].partitions == 4 and m.thread.plan.topic_partitions["in"] == 4


def test_adopt_plan_swaps_the_counts_in_place() -> None:
    topology = _stateless()
    plan = plan_from_metadata(topology, "app", {"in": 2, "out": 1})
    subs = plan.subtopologies
    assert not adopt_plan(plan, plan_from_metadata(topology, "app", {"in": 2, "out": 1}))
    assert adopt_plan(plan, plan_from_metadata(topology, "app", {"in": 3, "out": 1}))
    assert plan.subtopologies is subs and subs[0].partitions == 3 and plan.topic_partitions == {"in": 3}


@pytest.mark.parametrize(("keys", "seconds"), [
    ({}, 300.0),
    ({"metadata.max.age.ms": 1000}, 1.0),
    ({"metadata.max.age.ms": 1000, "consumer.metadata.max.age.ms": 2000}, 2.0),
    ({"consumer.metadata.max.age.ms": 2000, "main.consumer.metadata.max.age.ms": 3000}, 3.0),
])
def test_the_refresh_interval_is_the_main_consumers_metadata_max_age(tmp_path: Any, keys: dict[str, int],
                                                                     seconds: float) -> None:
    config = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path),
                            **keys})
    plan = plan_from_metadata(_stateless(), "app", {"in": 1, "out": 1})
    thread = SimpleNamespace(name="t", plan=plan, topology=None, config=config, tasks={}, _standby=None,
                             streams=SimpleNamespace(process_id="p", shutdown_requested=0))
    assert StreamsMember(thread, (MetadataClient({}), FakeClient()))._refresh_s == seconds


def test_a_retriable_topic_error_is_not_a_deleted_topic(tmp_path: Any) -> None:
    """LEADER_NOT_AVAILABLE (a broker restarting) leaves the topic out of the counts but not deleted: no rejoin,
    and a leader with the same answer keeps the planned count instead of failing every member."""
    m, client = _member(tmp_path, _stateful(), {"in": 2, "out": 1})
    del client.counts["in"]
    client.unsure_topics = frozenset({"in"})
    _due(m)
    m._maybe_refresh_metadata()
    assert not m.member.rejoin_needed
    result = m.leader_assign(_members("a"))
    info = AssignmentInfo.decode(result["a"][1])
    assert info.error_code == 0 and set(info.active_tasks) == {TaskId(0, 0), TaskId(0, 1)}
