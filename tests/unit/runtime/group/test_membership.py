"""The membership state machine with a scripted client and a fake clock: join/sync, cooperative revocation,
lost partitions (fenced, session expired, poll timeout), commits as member + generation, bounded retries."""
from __future__ import annotations

import pytest

from pystreams.broker.protocol import ErrorCode, decode_assignment, decode_subscription
from pystreams.runtime.group.errors import BrokerConnectionError, CoordinatorMovedError, MemberFencedError
from pystreams.runtime.group.membership import GroupMember, MemberConfig, MemberMetadata, MemberState
from pystreams.runtime.group.metadata import parse_consumer_group_metadata
from tests.unit.runtime.group.fakes import Clock, FakeClient, assignment, error, joined, member_id_required

pytestmark = pytest.mark.unit

T0, T1 = ("in", 0), ("in", 1)


class Harness:
    def __init__(self, user_data: bytes = b"info-v1") -> None:
        self.client = FakeClient()
        self.hb = FakeClient()
        self.clock = Clock()
        self.seen: list[list[MemberMetadata]] = []
        self.plan: dict[str, tuple[list[tuple[str, int]], bytes | None]] = {}
        self.member = GroupMember(MemberConfig("app", session_timeout_ms=10_000, rebalance_timeout_ms=30_000,
                                               heartbeat_interval_ms=1_000, retry_backoff_ms=0,
                                               heartbeat_thread=False),
                                  self.client, self.hb, lambda: ["in"], lambda: user_data, self._assign, self.clock)

    def _assign(self, members):  # the leader's assignor: records what it saw, answers self.plan
        self.seen.append(list(members))
        return self.plan


def _join_answer_with_own_metadata(h: Harness, member: str, generation: int, partitions):
    """Script a JoinGroup that echoes the member's own subscription back (as the coordinator does)."""
    h.plan = {member: (partitions, b"a-info")}
    h.client.script("sync", assignment(partitions, b"a-info"))

    def join(member_id, group_instance_id, session_timeout_ms, rebalance_timeout_ms, protocols, reason=None):
        h.client.calls.append(("join", {"member_id": member_id, "protocols": protocols}))
        return joined(member, generation, member, [(member, protocols[0][1])])

    h.client.join_group = join  # type: ignore[method-assign]


def test_first_join_gets_a_member_id_then_leads_and_installs_its_assignment() -> None:
    h = Harness()
    h.client.script("join", member_id_required("m-1"))
    h.client.script("join", joined("m-1", 1, "m-1", []))
    h.plan = {}
    h.client.script("sync", assignment([T0, T1], b"a-info"))
    # the leader decodes members' subscriptions; here the coordinator lists none, so the plan is empty
    rebalance = h.member.poll()
    joins = h.client.called("join")
    assert [j["member_id"] for j in joins] == ["", "m-1"]
    name, metadata = joins[1]["protocols"][0]
    assert name == "stream"
    _, sub = decode_subscription(metadata)
    assert sub["topics"] == ["in"] and sub["user_data"] == b"info-v1" and sub["owned_partitions"] == []
    assert rebalance is not None and rebalance.added == {T0, T1} and rebalance.revoked == frozenset()
    assert rebalance.user_data == b"a-info" and rebalance.generation_id == 1
    assert h.member.state is MemberState.STABLE and h.member.generation_id == 1 and h.member.member_id == "m-1"
    assert h.member.poll() is None  # nothing to do until something flags a rejoin


def test_leader_decodes_every_subscription_and_sends_every_assignment() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 3, [T0])
    rebalance = h.member.poll()
    assert rebalance is not None and rebalance.assigned == {T0}
    [members] = h.seen
    assert members == [MemberMetadata("m-1", None, ["in"], b"info-v1", [])]
    sent = h.client.called("sync")[0]["assignments"]
    _, body = decode_assignment(sent["m-1"])
    assert body["assigned_partitions"] == [{"topic": "in", "partitions": [0]}] and body["user_data"] == b"a-info"


def test_cooperative_rejoin_sends_owned_partitions_and_revocation_triggers_an_immediate_rejoin() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0, T1])
    h.member.poll()
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.REBALANCE_IN_PROGRESS))
    h.member.heartbeat_once()
    assert h.member.rejoin_needed
    _join_answer_with_own_metadata(h, "m-1", 2, [T1])
    rebalance = h.member.poll()
    _, sub = decode_subscription(h.client.called("join")[-1]["protocols"][0][1])
    assert sub["owned_partitions"] == [{"topic": "in", "partitions": [0, 1]}] and sub["generation_id"] == 1
    assert rebalance is not None and rebalance.revoked == {T0} and rebalance.added == frozenset()
    assert h.member.owned == {T1}
    assert h.member.rejoin_needed  # gave T0 up: the next round can hand it to its new owner
    _join_answer_with_own_metadata(h, "m-1", 3, [T1])
    again = h.member.poll()
    assert again is not None and again.added == frozenset() and again.revoked == frozenset()
    assert not h.member.rejoin_needed


def test_fenced_heartbeat_loses_every_partition_and_the_member_rejoins() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0, T1])
    h.member.poll()
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.ILLEGAL_GENERATION))
    h.member.heartbeat_once()
    lost = h.member.poll()
    assert lost is not None and lost.lost == {T0, T1} and "ILLEGAL_GENERATION" in lost.lost_reason
    assert h.member.owned == frozenset() and h.member.generation_id == -1
    assert h.member.member_id == "m-1"  # ILLEGAL_GENERATION keeps the member id
    _join_answer_with_own_metadata(h, "m-1", 2, [T0])
    back = h.member.poll()
    _, sub = decode_subscription(h.client.called("join")[-1]["protocols"][0][1])
    assert sub["owned_partitions"] == []  # lost partitions are not claimed again
    assert back is not None and back.added == {T0}


def test_unknown_member_in_heartbeat_forgets_the_member_id() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.hb.script("heartbeat", error("Heartbeat", ErrorCode.UNKNOWN_MEMBER_ID))
    h.member.heartbeat_once()
    assert h.member.poll().lost == {T0}
    assert h.member.member_id == ""


def test_a_stale_heartbeat_answer_does_not_fence_the_next_generation() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.member._flag_lost("from generation 0", generation=0)  # a heartbeat of an older generation answering late
    assert h.member.poll() is None


def test_no_successful_heartbeat_within_the_session_timeout_loses_the_partitions() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.hb.script("heartbeat", BrokerConnectionError("down"), CoordinatorMovedError("Heartbeat", 16))
    h.clock.now += 5
    h.member._last_poll = h.clock.now
    h.member.heartbeat_once()
    assert h.member.poll() is None  # 5 s < session.timeout.ms: keep going
    h.clock.now += 6
    h.member._last_poll = h.clock.now
    h.member.heartbeat_once()
    assert h.member.poll().lost == {T0}


def test_no_poll_within_max_poll_interval_leaves_the_group_and_loses_the_partitions() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.clock.now += 31  # rebalance timeout (max.poll.interval.ms) is 30 s
    h.hb.script("leave", None)
    h.member.heartbeat_once()
    assert h.hb.called("leave") == [{"member_id": "m-1"}]
    assert h.hb.called("heartbeat") == []
    lost = h.member.poll()
    assert lost.lost == {T0} and "max.poll.interval.ms" in lost.lost_reason
    assert h.member.member_id == ""  # it left: join as a new member


def test_commit_carries_member_and_generation_and_a_fenced_commit_loses_the_partitions() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 7, [T0])
    h.member.poll()
    h.client.script("commit", None, error("OffsetCommit", ErrorCode.ILLEGAL_GENERATION))
    h.member.commit({T0: 42})
    assert h.client.called("commit")[0] == {"generation_id": 7, "member_id": "m-1", "offsets": {T0: 42}}
    with pytest.raises(MemberFencedError):
        h.member.commit({T0: 43})
    assert h.member.poll().lost == {T0}


def test_join_retries_are_bounded_and_the_next_poll_tries_again() -> None:
    h = Harness()
    h.member.config.join_attempts = 3
    h.client.script("join", *[CoordinatorMovedError("JoinGroup", 16)] * 3)
    assert h.member.poll() is None
    assert len(h.client.called("join")) == 3 and h.member.rejoin_needed
    assert h.member.state is MemberState.UNJOINED


def test_sync_rebalance_in_progress_joins_again_within_the_same_poll() -> None:
    h = Harness()
    h.client.script("join", joined("m-1", 1, "other"), joined("m-1", 2, "other"))
    h.client.script("sync", error("SyncGroup", ErrorCode.REBALANCE_IN_PROGRESS), assignment([T1]))
    rebalance = h.member.poll()
    assert rebalance.generation_id == 2 and rebalance.added == {T1}
    assert h.client.called("sync")[1]["assignments"] == {}  # a follower sends no assignments
    assert h.seen == []  # and runs no assignor


def test_follow_up_rebalance_waits_for_its_delay() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.member.request_rejoin("probing rebalance", delay_ms=10_000)
    h.clock.now += 9
    assert h.member.poll() is None
    h.clock.now += 2
    _join_answer_with_own_metadata(h, "m-1", 2, [T0])
    assert h.member.poll() is not None and h.member.generation_id == 2


def test_group_metadata_carries_our_member_and_generation() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 5, [T0])
    h.member.poll()
    assert parse_consumer_group_metadata(h.member.group_metadata()) == ("app", 5, "m-1", None)


def test_close_leaves_the_group_and_closes_both_clients() -> None:
    h = Harness()
    _join_answer_with_own_metadata(h, "m-1", 1, [T0])
    h.member.poll()
    h.client.script("leave", None)
    h.member.close()
    assert h.client.called("leave") == [{"member_id": "m-1"}]
    assert h.client.closed and h.hb.closed and h.member.owned == frozenset()
