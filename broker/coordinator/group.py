"""A classic consumer group's in-memory state: members, generation, chosen protocol.

Why separate from the state machine: this is plain data that both the live coordinator and the
replay of `__consumer_offsets` records build; the transitions live in machine.py.
"""
from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Hashable

from pystreams.broker.coordinator.codes import FENCED_INSTANCE_ID, NONE, UNKNOWN_MEMBER_ID

EMPTY = "Empty"
PREPARING_REBALANCE = "PreparingRebalance"
COMPLETING_REBALANCE = "CompletingRebalance"
STABLE = "Stable"
DEAD = "Dead"


@dataclass
class Member:
    """One group member as JoinGroup described it, plus its assignment and session deadline."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    heartbeat_deadline: int = 0
    join_waiter: Hashable | None = None
    sync_waiter: Hashable | None = None

    def metadata_for(self, protocol: str | None) -> bytes:
        """This member's subscription metadata for `protocol` (empty when it has none)."""
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    def same_protocols(self, protocols: list[tuple[str, bytes]]) -> bool:
        """Whether a rejoin changes nothing (then a stable group need not rebalance)."""
        return [(n, bytes(m)) for n, m in self.protocols] == [(n, bytes(m)) for n, m in protocols]


@dataclass
class ClassicGroup:
    """Kafka's ClassicGroup: the state, the generation and the members of one group id."""

    group_id: str
    state: str = EMPTY
    generation: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: "OrderedDict[str, Member]" = field(default_factory=OrderedDict)
    static_members: dict[str, str] = field(default_factory=dict)
    pending_members: dict[str, int] = field(default_factory=dict)  # member id -> expiry ms
    pending_sync: set[str] = field(default_factory=set)  # joined this generation, not synced
    rebalance_deadline: int = 0
    join_not_before: int = 0
    initial_join_limit: int = 0
    state_timestamp: int = -1

    def has_member(self, member_id: str) -> bool:
        return member_id in self.members

    def member_error(self, member_id: str, instance_id: str | None) -> int:
        """Why a request from this member must be refused: a static instance now held by another
        member id is fenced; an unknown member id is unknown; NONE otherwise."""
        if instance_id is not None:
            known = self.static_members.get(instance_id)
            if known is not None and known != member_id:
                return FENCED_INSTANCE_ID
        if member_id not in self.members:
            return UNKNOWN_MEMBER_ID
        return NONE

    def all_joined(self) -> bool:
        """Every known member has a JoinGroup waiting and no issued member id is outstanding."""
        return not self.pending_members and all(m.join_waiter is not None
                                                for m in self.members.values())

    def max_rebalance_timeout(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def select_protocol(self) -> str | None:
        """The protocol every member supports that gets the most first-choice votes (Kafka's
        rule: each member votes for its most preferred protocol among the common ones)."""
        if not self.members:
            return None
        common: list[str] | None = None
        for m in self.members.values():
            names = [n for n, _ in m.protocols]
            common = names if common is None else [n for n in common if n in names]
        if not common:
            return None
        votes: dict[str, int] = {n: 0 for n in common}
        for m in self.members.values():
            for name, _ in m.protocols:
                if name in votes:
                    votes[name] += 1
                    break
        return max(common, key=lambda n: votes[n])

    def supports(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        """Whether a new join is compatible with the members already in the group."""
        if not self.members:
            return bool(protocol_type) and bool(protocols)
        if protocol_type != self.protocol_type:
            return False
        names = {n for n, _ in protocols}
        return all(any(n in names for n, _ in m.protocols) for m in self.members.values())

    def subscribed_topics(self) -> set[str] | None:
        """Topics the consumer-protocol members subscribe to; None when not a consumer group."""
        if self.protocol_type != "consumer" or self.protocol_name is None:
            return None
        topics: set[str] = set()
        for m in self.members.values():
            topics.update(parse_subscription_topics(m.metadata_for(self.protocol_name)))
        return topics


def parse_subscription_topics(metadata: bytes) -> list[str]:
    """Topic names from a ConsumerProtocolSubscription (int16 version, int32 count, strings)."""
    try:
        pos = 2
        (count,) = struct.unpack_from(">i", metadata, pos)
        pos += 4
        topics = []
        for _ in range(max(count, 0)):
            (n,) = struct.unpack_from(">h", metadata, pos)
            pos += 2
            topics.append(bytes(metadata[pos:pos + n]).decode())
            pos += n
        return topics
    except (struct.error, UnicodeDecodeError):
        return []
