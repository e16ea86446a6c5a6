"""The value types of a group member (pystreams.runtime.group.membership): its protocol state, its config, a
member's decoded subscription as the leader sees it, and the Rebalance one poll() returns."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from pystreams.runtime.group.client import TopicPartition


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

