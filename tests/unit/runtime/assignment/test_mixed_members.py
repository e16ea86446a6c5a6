"""A pystreams StreamsMember in a group with Java Kafka Streams members (scripted clients, no broker): it reads the
AssignmentInfo a Java leader wrote (captured bytes: test_kafka_info.JAVA), and as the leader it reads Java
members' subscriptions and answers them in Kafka's AssignmentInfo."""
from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    SHUTDOWN_REQUESTED,
    AssignmentInfo,
    SubscriptionInfo,
)
from pystreams.runtime.assignment.kafka_info import (
    LATEST_OFFSET,
    KafkaSubscription,
    decode_assignment,
    encode_subscription,
)
from pystreams.runtime.group.client import JoinResult
from pystreams.runtime.group.membership import MemberMetadata
from tests.unit.runtime.assignment.test_kafka_info import JAVA
from tests.unit.runtime.group.fakes import assignment
from tests.unit.runtime.group.test_streams_member import member

pytestmark = pytest.mark.unit


def test_a_member_reads_a_java_leaders_assignment(tmp_path: Any) -> None:
    m, client = member(tmp_path, str(uuid.uuid4()))
    partitions = [("left", 0), ("right", 0), ("app-repartition", 2)]
    client.script("join", JoinResult(1, "m1", "java-leader", "stream", []))
    client.script("sync", assignment(partitions, bytes.fromhex(JAVA["assignment 11"])))
    rebalance, info = m.poll()
    # Kafka's onAssignment: the partitions in (topic, partition) order, zipped with the active task list
    assert info.active_tasks == {TaskId(0, 0): [("left", 0), ("right", 0)], TaskId(1, 2): [("app-repartition", 2)]}
    assert rebalance.added == set(partitions)
    assert set(info.standby_tasks) == {TaskId(0, 1)}
    assert {h: sorted(tps) for h, tps in info.partitions_by_host.items()} == {
        "localhost:8080": [("app-repartition", 2), ("left", 0), ("right", 0)], "other:9090": [("left", 1), ("right", 1)]}
    assert {h: sorted(t) for h, t in info.standby_partitions_by_host.items()} == {
        "localhost:8080": [("left", 1), ("right", 1)]}
    # its nextRebalanceMs (a wall-clock time, long past) means: rejoin now (after the 1 ms minimum delay)
    time.sleep(0.01)
    assert info.followup_rebalance_ms == 0 and m.member.rejoin_needed


def _java_member(member_id: str, sums: dict[TaskId, int], error: int = 0) -> MemberMetadata:
    data = encode_subscription(KafkaSubscription(11, 11, uuid.UUID(int=7), None, sums, error_code=error))
    return MemberMetadata(member_id, None, ["left", "right"], data, [("left", 0), ("right", 0)])


def test_a_leader_reads_java_subscriptions_and_answers_in_kafkas_assignment_info(tmp_path: Any) -> None:
    leader, _ = member(tmp_path, str(uuid.uuid4()))
    ours = MemberMetadata("py-1", None, ["left", "right"], leader.user_data(), [])
    result = leader.leader_assign([_java_member("java-1", {TaskId(0, 0): LATEST_OFFSET}), ours])
    partitions, data = result["java-1"]
    k = decode_assignment(data)  # what a Java member's AssignmentInfo.decode reads
    assert (k.version, k.commonly_supported_version, k.error_code) == (11, 11, 0)
    # the Java member keeps the task it runs (its offset sum says LATEST_OFFSET): one task id per partition
    assert sorted(partitions) == [("left", 0), ("right", 0)] and k.active_tasks == [TaskId(0, 0), TaskId(0, 0)]
    assert AssignmentInfo.decode(result["py-1"][1], result["py-1"][0]).active_tasks == {
        TaskId(0, 1): [("left", 1), ("right", 1)]}


def test_a_java_members_shutdown_request_stops_every_member(tmp_path: Any) -> None:
    """Java's captured v11 subscription carries error code 4 (SHUTDOWN_REQUESTED)."""
    leader, _ = member(tmp_path, str(uuid.uuid4()))
    java = MemberMetadata("java-1", None, ["left", "right"], bytes.fromhex(JAVA["subscription 11"]), [])
    assert SubscriptionInfo.decode(java.user_data).error_code == SHUTDOWN_REQUESTED
    result = leader.leader_assign([java, MemberMetadata("py-1", None, ["left"], leader.user_data(), [])])
    assert {m: (p, decode_assignment(d).error_code) for m, (p, d) in result.items()} == {
        "java-1": ([], SHUTDOWN_REQUESTED), "py-1": ([], SHUTDOWN_REQUESTED)}
