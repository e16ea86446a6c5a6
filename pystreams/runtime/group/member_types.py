"""The value types of a group member (pystreams.runtime.group.membership): its protocol state, its config, a
member's decoded subscription as the leader sees it, and the Rebalance one poll() returns."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from pystreams.runtime.group.client import TopicPartition


class GroupMembershipOperation(enum.Enum):
    """Kafka's CloseOptions.GroupMembershipOperation (KIP-1092 / KIP-1153): what a closing member does in the
    group. As Kafka's consumer applies it: LEAVE_GROUP sends LeaveGroup, for a static member too (with its
    group.instance.id: it is removed now instead of after session.timeout.ms); REMAIN_IN_GROUP sends nothing (the
    member stays until its session times out, or until a static member comes back under the same instance id);
    DEFAULT leaves for a dynamic member and remains for a static one."""

    LEAVE_GROUP = "LEAVE_GROUP"
    REMAIN_IN_GROUP = "REMAIN_IN_GROUP"
    DEFAULT = "DEFAULT"


def sends_leave_group(operation: bool | GroupMembershipOperation, static: bool) -> bool:
    """Whether a closing member sends LeaveGroup: Kafka's ClassicKafkaConsumer rule `operation == LEAVE_GROUP ||
    (isDynamicMember() && operation == DEFAULT)`. A bool is pystreams' older flag: True = DEFAULT, False =
    REMAIN_IN_GROUP."""
    if isinstance(operation, bool):
        operation = GroupMembershipOperation.DEFAULT if operation else GroupMembershipOperation.REMAIN_IN_GROUP
    return operation is GroupMembershipOperation.LEAVE_GROUP or (
        operation is GroupMembershipOperation.DEFAULT and not static)


class MemberState(enum.Enum):
    """Kafka's MemberState for the classic protocol."""

    UNJOINED = "UNJOINED"
    PREPARING_REBALANCE = "PREPARING_REBALANCE"
    COMPLETING_REBALANCE = "COMPLETING_REBALANCE"
    STABLE = "STABLE"


@dataclass(frozen=True)
class MemberMetadata:
    """A member's decoded ConsumerProtocolSubscription, as the leader sees it."""

    member_id: str
    group_instance_id: str | None
    topics: list[str]
    user_data: bytes | None
    owned_partitions: list[TopicPartition]


@dataclass(frozen=True)
class Rebalance:
    """What one poll() changed for this member (see the module docstring)."""

    generation_id: int
    added: frozenset[TopicPartition] = frozenset()
    revoked: frozenset[TopicPartition] = frozenset()
    lost: frozenset[TopicPartition] = frozenset()
    assigned: frozenset[TopicPartition] = frozenset()
    user_data: bytes | None = None
    lost_reason: str = ""


#: leader callback: every member's subscription -> member id -> (partitions, assignment user data)
LeaderAssign = Callable[[Sequence[MemberMetadata]], Mapping[str, tuple[Sequence[TopicPartition], bytes | None]]]


@dataclass
class MemberConfig:
    """The timeouts Kafka's consumer takes from its config (session.timeout.ms etc.)."""

    group_id: str
    session_timeout_ms: int = 45_000
    rebalance_timeout_ms: int = 300_000  # max.poll.interval.ms, as Kafka's consumer sends it
    heartbeat_interval_ms: int = 3_000
    group_instance_id: str | None = None
    protocol_name: str = "stream"
    join_attempts: int = 10
    retry_backoff_ms: int = 100
    heartbeat_thread: bool = True  # False: the caller drives heartbeat_once() (tests)

