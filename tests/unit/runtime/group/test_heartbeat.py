"""The heartbeat side of the membership, as Kafka's AbstractCoordinator.HeartbeatThread does it: heartbeats from the
JoinGroup answer on (COMPLETING_REBALANCE too), none while PREPARING_REBALANCE; each Heartbeat error handled as
Kafka does; max.poll.interval.ms measured from the last poll or the last JoinGroup answer. Fake clock, no sockets:
the heartbeat thread's round is called directly, also from inside a scripted SyncGroup (the stream thread waiting).
Also: connection trouble in the leader's metadata read, JoinGroup or OffsetFetch is retried, never a dead thread."""
from __future__ import annotations

import pytest
from pystreams.broker.protocol import ErrorCode

from pystreams.errors import BrokerUnreachableError
from pystreams.runtime.group.errors import (
    BrokerConnectionError,
    CoordinatorMovedError,
    MemberFencedError,
)
from pystreams.runtime.group.membership import GroupMember, MemberConfig, MemberState
from pystreams.runtime.group.scram import SaslAuthenticationError
from tests.unit.runtime.group.fakes import Clock, FakeClient, assignment, error, joined
from tests.unit.runtime.group.test_membership import (
    T0,
    T1,
    Harness,
    _join_answer_with_own_metadata,
)

pytestmark = pytest.mark.unit


def _sync_calling(h: Harness, during_sync, answer: bytes) -> None:
    """SyncGroup that runs `during_sync()` (the heartbeat thread's turn) before answering."""
    def sync(generation_id, member_id, group_instance_id, protocol_name, assignments, rebalance_timeout_ms):
        h.client.calls.append(("sync", {"generation_id": generation_id}))
        during_sync()
        return answer
    h.client.sync_group = sync  # type: ignore[method-assign]


def test_heartbeats_while_completing_the_rebalance_with_the_joined_generation() -> None:
    h = Harness()
    seen = []

    def heartbeat_turn() -> None:
        seen.append(h.member.state)
        h.hb.script("heartbeat", None)
        assert h.member.heartbeat_once() is True

    h.client.script("join", joined("m-1", 4, "m-0"))  # a follower: SyncGroup waits for the leader
    _sync_calling(h, heartbeat_turn, assignment([T0]))
    assert h.member.poll().added == {T0}
    assert seen == [MemberState.COMPLETING_REBALANCE]
    assert h.hb.called("heartbeat") == [{"generation_id": 4, "member_id": "m-1"}]


def test_no_heartbeat_before_the_join_answer() -> None:
    h = Harness()
    for state in (MemberState.UNJOINED, MemberState.PREPARING_REBALANCE):
        h.member.state = state
        assert h.member.heartbeat_once() is True
    assert h.hb.called("heartbeat") == []  # the fake would have raised on an unscripted call


def test_rebalance_in_progress_while_completing_is_ignored_but_rejoins_when_stable() -> None:
    h = Harness()
    h.client.script("join", joined("m-1", 4, "m-0"))
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.REBALANCE_IN_PROGRESS))
    _sync_calling(h, h.member.heartbeat_once, assignment([T0]))
    h.member.poll()
    assert not h.member.rejoin_needed  # the SyncGroup in flight answered for that round
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.REBALANCE_IN_PROGRESS))
    h.member.heartbeat_once()
    assert h.member.rejoin_needed


def test_illegal_generation_while_completing_loses_the_partitions_of_the_previous_generation() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0, T1])
    h.member.poll()
    h.member.request_rejoin("test")
    h.client.script("join", joined("m-1", 2, "m-0"))
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.ILLEGAL_GENERATION))
    h.client.script("sync", error("SyncGroup", ErrorCode.ILLEGAL_GENERATION))

    def sync(generation_id, member_id, group_instance_id, protocol_name, assignments, rebalance_timeout_ms):
        h.member.heartbeat_once()  # the heartbeat thread learns it first
        return h.client._next("sync", generation_id=generation_id)
    h.client.sync_group = sync  # type: ignore[method-assign]
    lost = h.member.poll()
    assert lost is not None and lost.lost == {T0, T1} and h.member.member_id == "m-1"
    assert h.member.rejoin_needed


def test_fenced_instance_id_in_a_heartbeat_is_fatal_at_the_next_poll() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.FENCED_INSTANCE_ID))
    h.member.heartbeat_once()
    with pytest.raises(MemberFencedError) as e:
        h.member.poll()
    assert e.value.code == ErrorCode.FENCED_INSTANCE_ID
    assert h.member.heartbeat_once() is True and h.hb.called("heartbeat") == [{"generation_id": 1,
                                                                               "member_id": "m-1"}]


def test_a_refused_authentication_in_a_heartbeat_is_fatal_at_the_next_poll() -> None:
    """Credentials revoked while running: the thread fails (Kafka's SaslAuthenticationException), it does not
    log a warning every heartbeat and stay RUNNING."""
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    refused = SaslAuthenticationError("authentication as 'app' with SCRAM-SHA-256 failed: invalid credentials")
    h.hb.script("heartbeat", refused)
    assert h.member.heartbeat_once() is True
    with pytest.raises(SaslAuthenticationError) as e:
        h.member.poll()
    assert e.value is refused
    assert h.member.heartbeat_once() is True and len(h.hb.called("heartbeat")) == 1  # no retry after it


def test_a_long_join_is_not_a_missed_poll() -> None:
    h = Harness()

    def slow_join(member_id, group_instance_id, session_timeout_ms, rebalance_timeout_ms, protocols, reason=None):
        h.clock.now += 29  # the coordinator waited for the other members (max.poll.interval.ms is 30 s)
        return joined("m-1", 1, "m-0")
    h.client.join_group = slow_join  # type: ignore[method-assign]

    def heartbeat_turn() -> None:
        h.clock.now += 2  # 31 s after the poll that started the join, 2 s after its answer
        h.hb.script("heartbeat", None)
        h.member.heartbeat_once()
    _sync_calling(h, heartbeat_turn, assignment([T0]))
    assert h.member.poll().added == {T0}
    assert h.hb.called("leave") == [] and len(h.hb.called("heartbeat")) == 1
    assert h.member.poll() is None


def test_a_static_member_that_misses_polls_does_not_send_leave_group_and_stops_heartbeating() -> None:
    client, hb, clock = FakeClient(), FakeClient(), Clock()
    member = GroupMember(MemberConfig("app", session_timeout_ms=10_000, rebalance_timeout_ms=30_000,
                                      heartbeat_interval_ms=1_000, retry_backoff_ms=0, heartbeat_thread=False,
                                      group_instance_id="instance-a"),
                         client, hb, lambda: ["in"], lambda: b"", lambda members: {}, clock)
    client.script("join", joined("m-1", 1, "m-0"))
    client.script("sync", assignment([T0]))
    member.poll()
    clock.now += 31
    member.heartbeat_once()
    member.heartbeat_once()  # out of the group now: nothing more is sent
    assert hb.calls == []  # no LeaveGroup (static membership), no heartbeat
    lost = member.poll()
    assert lost.lost == {T0} and "max.poll.interval.ms" in lost.lost_reason


def test_a_dynamic_member_leaves_once_after_missing_polls() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.clock.now += 31
    h.hb.script("leave", None)
    h.member.heartbeat_once()
    h.member.heartbeat_once()
    assert h.hb.called("leave") == [{"member_id": "m-1"}]


def test_a_failed_heartbeat_asks_for_a_quick_retry_and_forgets_the_coordinator() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    forgotten = []
    h.hb.forget_coordinator = lambda: forgotten.append(True)  # type: ignore[attr-defined]
    h.hb.script("heartbeat", BrokerConnectionError("down"), None)
    assert h.member.heartbeat_once() is False and forgotten == [True]
    assert h.member.heartbeat_once() is True
    assert h.member.poll() is None


def test_fenced_before_any_assignment_rejoins_in_the_same_poll() -> None:
    h = Harness()
    h.client.script("join", joined("m-1", 1, "m-0"))
    h.client.script("sync", error("SyncGroup", ErrorCode.UNKNOWN_MEMBER_ID))
    assert h.member.poll() is None  # nothing owned, nothing lost to report
    assert h.member.member_id == "" and h.member.rejoin_needed
    h.client.script("join", joined("m-2", 2, "m-0"))
    h.client.script("sync", assignment([T1]))
    assert h.member.poll().added == {T1}


def test_a_leader_whose_metadata_read_fails_joins_again_instead_of_failing_the_thread() -> None:
    h = Harness()
    calls = []

    def assign(members):
        calls.append(len(members))
        if len(calls) == 1:
            raise BrokerUnreachableError("no broker answered METADATA")
        return {"m-1": ([T0], b"a-info")}
    h.member._leader_assign = assign
    h.client.script("join", BrokerUnreachableError("FindCoordinator reached no broker"),
                    joined("m-1", 1, "m-1"), joined("m-1", 2, "m-1"))
    h.client.script("sync", assignment([T0]))
    rebalance = h.member.poll()
    assert rebalance is not None and rebalance.generation_id == 2 and rebalance.added == {T0}
    assert calls == [0, 0] and len(h.client.called("join")) == 3 and len(h.client.called("sync")) == 1


def test_committed_offsets_are_retried_while_the_coordinator_moves() -> None:
    h = Harness()
    h.client.script("fetch", CoordinatorMovedError("OffsetFetch", 16), BrokerConnectionError("reset"), {T0: 42})
    assert h.member.committed([T0]) == {T0: 42}
    h.client.script("fetch", *[CoordinatorMovedError("OffsetFetch", 16)] * 50)
    with pytest.raises(CoordinatorMovedError):
        h.member.committed([T0], timeout_s=0.25)  # bounded: raised once the time is up


def test_no_heartbeats_while_joining_again_after_a_failed_sync_group() -> None:
    h = Harness()
    states = []
    answers = [joined("m-1", 1, "m-0"), joined("m-1", 2, "m-0")]

    def join(member_id, group_instance_id, session_timeout_ms, rebalance_timeout_ms, protocols, reason=None):
        states.append(h.member.state)
        assert h.member.heartbeat_once() is True  # the heartbeat thread's turn: idle while joining
        return answers.pop(0)
    h.client.join_group = join  # type: ignore[method-assign]
    h.client.script("sync", error("SyncGroup", ErrorCode.REBALANCE_IN_PROGRESS), assignment([T0]))
    assert h.member.poll().added == {T0}
    assert states == [MemberState.PREPARING_REBALANCE, MemberState.PREPARING_REBALANCE]
    assert h.hb.called("heartbeat") == []


def test_the_heartbeat_thread_retries_a_failed_heartbeat_soon_with_backoff() -> None:
    import itertools
    import time as real_time
    client, hb = FakeClient(), FakeClient()
    member = GroupMember(MemberConfig("app", session_timeout_ms=10_000, rebalance_timeout_ms=30_000,
                                      heartbeat_interval_ms=300, retry_backoff_ms=20),
                         client, hb, lambda: ["in"], lambda: b"", lambda members: {})
    sent: list[float] = []
    answers = [BrokerConnectionError("down")] * 3 + [None] * 10

    def heartbeat(generation_id, member_id, group_instance_id):
        sent.append(real_time.monotonic())
        answer = answers.pop(0)
        if answer is not None:
            raise answer
    hb.heartbeat = heartbeat  # type: ignore[method-assign]
    client.script("join", joined("m-1", 1, "m-0"))
    client.script("sync", assignment([T0]))
    member.poll()  # starts the heartbeat thread
    deadline = real_time.monotonic() + 5
    while len(sent) < 5 and real_time.monotonic() < deadline:
        real_time.sleep(0.01)
    member._stop.set()
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(gaps) >= 4, sent
    # 50, 100, 200 ms after each failure (retry.backoff.ms, at least 50 ms, doubling), not the 300 ms interval
    assert gaps[0] < 0.2 and sum(gaps[:3]) < 0.6, gaps
    assert gaps[3] >= 0.25, gaps  # success: back to the interval
