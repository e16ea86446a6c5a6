"""StreamsMember with scripted clients: the SubscriptionInfo it sends, the leader step with the real
StreamsPartitionAssignor (co-partitioned inputs in one task, every task once), AssignmentInfo back to the thread,
and a shutdown request forcing a rejoin."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.broker.protocol import decode_assignment, decode_subscription
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import SHUTDOWN_REQUESTED, AssignmentInfo, SubscriptionInfo
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.client import JoinedMember, JoinResult
from pystreams.runtime.group.streams_member import StreamsMember
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan
from tests.unit.runtime.group.fakes import FakeClient, MetadataClient

pytestmark = pytest.mark.unit


class StreamsFakeClient(MetadataClient):
    end_offset = 100


def make_thread(tmp_path: Any, process_id: str, endpoint: str = "") -> SimpleNamespace:
    plan = TopologyPlan("app", [SubtopologyPlan(0, ("a",), ["left", "right"], [], 2, {"store": "app-store-changelog"})],
                        {"left": 2, "right": 2}, {}, {"app-store-changelog": 2})
    config = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path),
                            "application.server": endpoint, "session.timeout.ms": 10_000,
                            "heartbeat.interval.ms": 1_000})
    streams = SimpleNamespace(process_id=process_id, shutdown_requested=0)
    return SimpleNamespace(name=f"t-{process_id}", plan=plan, config=config, streams=streams, tasks={},
                           _standby=None)


def member(tmp_path: Any, process_id: str, endpoint: str = "") -> tuple[StreamsMember, StreamsFakeClient]:
    client = StreamsFakeClient({"left": 2, "right": 2, "app-store-changelog": 2})
    m = StreamsMember(make_thread(tmp_path, process_id, endpoint), (client, FakeClient()))
    m.member.config.heartbeat_thread = False
    return m, client


def test_subscription_carries_process_endpoint_and_topics(tmp_path: Any) -> None:
    m, _ = member(tmp_path, "p1", "host-a:8080")
    info = SubscriptionInfo.decode(m.user_data())
    assert info.process_id == "p1" and info.user_endpoint == "host-a:8080" and info.error_code == 0
    assert m.topics() == ["left", "right"]


def test_the_leader_assigns_every_task_with_its_copartitioned_inputs_once(tmp_path: Any) -> None:
    leader, client = member(tmp_path, "p1", "host-a:1")
    other, _ = member(tmp_path / "b", "p2", "host-b:1")
    metadata = {}

    def join(member_id, group_instance_id, session_timeout_ms, rebalance_timeout_ms, protocols, reason=None):
        metadata["m1"] = protocols[0][1]
        from pystreams.broker.protocol import encode_subscription
        metadata["m2"] = encode_subscription({"topics": ["left", "right"], "user_data": other.user_data(),
                                              "owned_partitions": []})
        return JoinResult(1, "m1", "m1", "stream", [JoinedMember(k, None, v) for k, v in metadata.items()])

    client.join_group = join  # type: ignore[method-assign]
    sent: dict[str, bytes] = {}

    def sync(generation_id, member_id, group_instance_id, protocol_name, assignments, rebalance_timeout_ms):
        sent.update(assignments)
        return assignments["m1"]

    client.sync_group = sync  # type: ignore[method-assign]
    rebalance, info = leader.poll()
    _, sub = decode_subscription(metadata["m1"])
    assert SubscriptionInfo.decode(sub["user_data"]).process_id == "p1"
    tasks: dict[TaskId, list[tuple[str, int]]] = {}
    for m_id in ("m1", "m2"):
        _, body = decode_assignment(sent[m_id])
        a_info = AssignmentInfo.decode(body["user_data"])
        assigned = {(e["topic"], p) for e in body["assigned_partitions"] for p in e["partitions"]}
        assert assigned == {tp for tps in a_info.active_tasks.values() for tp in tps}
        for t, tps in a_info.active_tasks.items():
            assert t not in tasks
            tasks[t] = sorted(tps)
    assert tasks == {TaskId(0, 0): [("left", 0), ("right", 0)], TaskId(0, 1): [("left", 1), ("right", 1)]}
    assert info is not None and rebalance.added == {tp for t in info.active_tasks.values() for tp in t}
    assert set(info.partitions_by_host) <= {"host-a:1", "host-b:1"}


def test_a_shutdown_request_forces_a_rejoin_with_the_error_code(tmp_path: Any) -> None:
    m, client = member(tmp_path, "p1")
    client.script("join", JoinResult(1, "m1", "other", "stream", []))
    client.script("sync", b"")
    m.poll()
    assert m.poll() is None
    m.thread.streams.shutdown_requested = SHUTDOWN_REQUESTED
    client.script("join", JoinResult(2, "m1", "other", "stream", []))
    client.script("sync", b"")
    rebalance, info = m.poll()
    sent = client.called("join")[-1]["protocols"][0][1]
    _, sub = decode_subscription(sent)
    assert SubscriptionInfo.decode(sub["user_data"]).error_code == SHUTDOWN_REQUESTED
    assert rebalance.generation_id == 2 and info == AssignmentInfo()


def test_a_pattern_subscription_rejoins_when_a_matching_topic_appears(tmp_path: Any) -> None:
    import re

    thread = make_thread(tmp_path, "p1")
    thread.plan = TopologyPlan("app", [SubtopologyPlan(0, ("a",), [], [re.compile("logs-.*")], 1)], {"logs-a": 1}, {},
                               {})
    client = StreamsFakeClient({"logs-a": 1, "other": 1})
    m = StreamsMember(thread, (client, FakeClient()))
    m.member.config.heartbeat_thread = False
    m._refresh_s, m._next_refresh = 0.0, 0.0
    assert m.topics() == ["logs-a"]
    client.script("join", JoinResult(1, "m1", "other", "stream", []))
    client.script("sync", b"")
    m.poll()
    assert not m.member.rejoin_needed
    m._maybe_refresh_patterns()
    assert not m.member.rejoin_needed  # nothing new
    client.counts["logs-b"] = 1
    m._maybe_refresh_patterns()
    assert m.member.rejoin_needed
