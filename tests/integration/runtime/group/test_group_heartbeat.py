"""Heartbeat thread and poll timer against both brokers (Apache Kafka 4.1.1 and ours), as Kafka's
AbstractCoordinator: a leader whose assignment takes longer than session.timeout.ms keeps its membership because it
heartbeats while COMPLETING_REBALANCE; a member that does not poll within max.poll.interval.ms leaves the group, its
partitions go to the member that polls, and its own next poll reports them lost and rejoins."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from pystreams.runtime.group import (
    BrokerConnectionError,
    GroupClient,
    GroupMember,
    MemberConfig,
)
from pystreams.runtime.group.membership import MemberMetadata
from tests.integration.runtime.group.test_group_membership import (
    cooperative_round_robin,
    group_topic,
    poll_until,
)

pytestmark = pytest.mark.integration
__all__ = ["group_topic"]  # the fixture, shared


def _member(bootstrap: str, group: str, topic: str, name: str, assign: Any, **timeouts: int) -> GroupMember:
    cfg = MemberConfig(group, **{"session_timeout_ms": 6_000, "rebalance_timeout_ms": 15_000,
                                 "heartbeat_interval_ms": 500, **timeouts})
    return GroupMember(cfg, GroupClient(bootstrap, group, name), GroupClient(bootstrap, group, f"{name}-hb"),
                       lambda: [topic], lambda: name.encode(), assign)


def _split_two_and_two(a: GroupMember, b: GroupMember) -> None:
    """a alone owns the 4 partitions, then b joins and the cooperative rounds leave 2 with each."""
    assert a.poll() is not None and len(a.owned) == 4
    b_thread = threading.Thread(target=lambda: poll_until(b, lambda: len(b.owned) == 2))
    b_thread.start()
    poll_until(a, lambda: len(a.owned) == 2 and not b_thread.is_alive())
    b_thread.join(30)


def test_a_leader_slower_than_the_session_timeout_keeps_its_membership(group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    slow: list[float] = []

    def slow_assign(members: Sequence[MemberMetadata]) -> dict[str, tuple[list[Any], bytes | None]]:
        started = time.monotonic()
        time.sleep(4.5)  # 1.5 x session.timeout.ms: only heartbeats while COMPLETING_REBALANCE keep us in
        slow.append(time.monotonic() - started)
        return cooperative_round_robin(members)

    # a 3 s session (heartbeats every 0.5 s, as the failover tests; the test brokers have no session floor)
    a = _member(bootstrap, group, topic, "a", slow_assign, session_timeout_ms=3_000)
    try:
        first = a.poll()
        assert slow and slow[0] >= 4.5
        assert first is not None and first.generation_id >= 1 and first.added == {(topic, p) for p in range(4)}
        generation = a.generation_id
        time.sleep(1.5)  # a few more heartbeats: still this generation, nothing lost, no rejoin needed
        assert a.poll() is None and a.generation_id == generation and a.owned == first.added
    finally:
        a.close()


def test_a_member_that_stops_polling_leaves_and_its_partitions_move(group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    a = _member(bootstrap, group, topic, "a", cooperative_round_robin, rebalance_timeout_ms=4_000)
    b = _member(bootstrap, group, topic, "b", cooperative_round_robin, rebalance_timeout_ms=15_000)
    try:
        _split_two_and_two(a, b)
        a_kept = a.owned
        a_member = a.member_id
        # a stops polling (a stuck stream thread); b keeps polling and gets everything once a has left
        started = time.monotonic()
        poll_until(b, lambda: len(b.owned) == 4, timeout=30)
        assert time.monotonic() - started >= 3.5  # not before max.poll.interval.ms (4 s) without a poll
        lost = a.poll()
        assert lost is not None and lost.lost == a_kept and "max.poll.interval.ms" in lost.lost_reason
        assert a.member_id == ""  # it left: it joins again as a new member
        # and a comes back: the group rebalances to 2 + 2 again (b revokes, then both join a second round),
        # a under a new member id
        balanced = threading.Event()
        b_thread = threading.Thread(target=lambda: poll_until(b, balanced.is_set))
        b_thread.start()
        try:
            poll_until(a, lambda: len(a.owned) == 2 and len(b.owned) == 2)
        finally:
            balanced.set()
            b_thread.join(30)
        assert a.member_id not in ("", a_member)
    finally:
        a.close()
        b.close()


def test_a_member_without_heartbeats_for_the_session_timeout_loses_its_partitions(
        group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    # 3 s sessions (heartbeats every 0.5 s, as the failover tests; the test brokers have no session floor)
    a = _member(bootstrap, group, topic, "a", cooperative_round_robin, session_timeout_ms=3_000)
    b = _member(bootstrap, group, topic, "b", cooperative_round_robin, session_timeout_ms=3_000)
    try:
        _split_two_and_two(a, b)
        a_kept = a.owned

        def unreachable(*args: Any, **kwargs: Any) -> None:  # a's coordinator connection is cut; a keeps polling
            raise BrokerConnectionError("simulated: coordinator unreachable")
        a.heartbeat_client.heartbeat = unreachable  # type: ignore[method-assign]
        started = time.monotonic()
        lost = poll_until(a, lambda: not a.owned, timeout=20)[-1]
        assert lost.lost == a_kept and "session.timeout.ms" in lost.lost_reason
        # session.timeout.ms (3 s) after the last successful heartbeat, which was up to one interval (0.5 s) ago
        assert 2.4 <= time.monotonic() - started < 7.0
        poll_until(b, lambda: len(b.owned) == 4, timeout=20)  # the coordinator expired a too and moved them
    finally:
        a.close()
        b.close()
