"""The classic group protocol as a state machine: joins, syncs, heartbeats, timeouts, static
members and leaves, all with fake time."""
from __future__ import annotations

import pytest

from pystreams.broker.coordinator import records as rec
from pystreams.broker.coordinator.machine import GroupCoordinator

from tests.unit.coordinator._helpers import Harness

pytestmark = pytest.mark.unit


def _stable_group_of_two(h: Harness) -> tuple[str, str, int]:
    j1, m1 = h.join_new()
    j2, m2 = h.join_new()
    assert j1 not in h.replies and j2 not in h.replies  # parked in the initial delay
    h.tick(3000)
    r1, r2 = h.replies.pop(j1), h.replies.pop(j2)
    gen = r1["generation_id"]
    assert r1["error_code"] == r2["error_code"] == 0 and gen == r2["generation_id"] == 1
    leader = r1["leader"]
    assert leader == r2["leader"] == m1
    assert {m["member_id"] for m in r1["members"]} == {m1, m2} and r2["members"] == []
    assert r1["protocol_name"] == "range"
    s2 = h.sync(m2, gen)
    assert s2 not in h.replies  # follower waits for the leader
    s1 = h.sync(m1, gen, [(m1, b"A1"), (m2, b"A2")])
    assert h.replies.pop(s1)["assignment"] == b"A1"
    assert h.replies.pop(s2)["assignment"] == b"A2"
    assert h.machine.groups["g"].state == "Stable"
    return m1, m2, gen


def test_join_sync_and_group_record():
    h = Harness()
    m1, m2, gen = _stable_group_of_two(h)
    (group, key, value), = [r for r in h.records if rec.decode_key(r[1]) == rec.GroupKey("g")]
    data = rec.decode_group_value(value)
    assert (data.generation, data.protocol, data.leader) == (gen, "range", m1)
    assert {m.member_id: m.assignment for m in data.members} == {m1: b"A1", m2: b"A2"}


def test_replay_rebuilds_the_group():
    h = Harness()
    m1, m2, gen = _stable_group_of_two(h)
    fresh = GroupCoordinator()
    for _, key, value in h.records:
        fresh.replay(key, value, h.now)
    g = fresh.groups["g"]
    assert (g.state, g.generation, g.leader_id, g.protocol_name) == ("Stable", gen, m1, "range")
    assert {m: g.members[m].assignment for m in g.members} == {m1: b"A1", m2: b"A2"}


def test_heartbeat_errors_and_rebalance_signal():
    h = Harness()
    m1, m2, gen = _stable_group_of_two(h)
    assert h.heartbeat(m1, gen) == 0
    assert h.heartbeat("nobody", gen) == 25  # UNKNOWN_MEMBER_ID
    assert h.heartbeat(m1, gen + 7) == 22  # ILLEGAL_GENERATION
    assert h.heartbeat(m1, gen, group="other") == 25
    h.join_new()  # a third member: the group must rebalance
    assert h.machine.groups["g"].state == "PreparingRebalance"
    assert h.heartbeat(m2, gen) == 27  # REBALANCE_IN_PROGRESS


def test_session_timeout_removes_silent_member_and_rebalances():
    h = Harness()
    m1, m2, gen = _stable_group_of_two(h)
    for _ in range(4):
        h.tick(3000)
        assert h.heartbeat(m1, gen) in (0, 27)
    g = h.machine.groups["g"]
    assert m2 not in g.members  # m2 never heartbeated for 12 s > 10 s session
    assert g.state == "PreparingRebalance"
    j = h.join(member_id=m1)
    reply = h.replies.pop(j)
    assert reply["generation_id"] == gen + 1 and [m["member_id"] for m in reply["members"]] == [m1]


def test_rebalance_timeout_drops_members_that_do_not_rejoin():
    h = Harness()
    m1, m2, gen = _stable_group_of_two(h)
    j1 = h.join(member_id=m1, protocols=[("roundrobin", b"x")])  # changed protocols: rebalance
    assert j1 not in h.replies
    for _ in range(5):  # m2 keeps heartbeating but never rejoins
        h.tick(6000)
        h.heartbeat(m2, gen)
    h.tick(6000)
    reply = h.replies.pop(j1)
    assert reply["error_code"] == 0 and reply["generation_id"] == gen + 1
    assert m2 not in h.machine.groups["g"].members


def test_static_member_restart_keeps_assignment_without_rebalance():
    h = Harness()
    j1 = h.join(instance="i-1")
    j2 = h.join(instance="i-2")
    h.tick(3000)
    r1, r2 = h.replies.pop(j1), h.replies.pop(j2)
    gen, leader = r1["generation_id"], r1["leader"]
    follower = r2["member_id"] if r1["member_id"] == leader else r1["member_id"]
    follower_instance = "i-2" if follower == r2["member_id"] else "i-1"
    s = h.sync(follower, gen, instance=follower_instance)
    h.sync(leader, gen, [(leader, b"L"), (follower, b"F")])
    assert h.replies.pop(s)["assignment"] == b"F"
    again = h.join(instance=follower_instance)  # restarted process: no member id yet
    reply = h.replies.pop(again)
    assert reply["error_code"] == 0 and reply["generation_id"] == gen
    assert reply["member_id"] != follower
    assert h.machine.groups["g"].state == "Stable"
    assert h.heartbeat(follower, gen) == 25  # the old id is gone
    t = h.token()
    h.apply(h.machine.heartbeat(t, h.now, "g", gen, follower, follower_instance))
    assert h.replies.pop(t)["error_code"] == 82  # FENCED_INSTANCE_ID


def test_leave_rebalances_and_last_leave_empties_the_group():
    h = Harness()
    m1, m2, gen = _stable_group_of_two(h)
    t = h.token()
    h.apply(h.machine.leave(t, h.now, "g", [(m2, None)]))
    assert h.replies.pop(t)["error_code"] == 0
    g = h.machine.groups["g"]
    assert g.state == "PreparingRebalance"
    j = h.join(member_id=m1)
    assert h.replies.pop(j)["generation_id"] == gen + 1
    t = h.token()
    h.apply(h.machine.leave(t, h.now, "g", [(m1, None)]))
    assert g.state == "Empty" and g.generation == gen + 2
    assert rec.decode_group_value(h.records[-1][2]).members == ()


def test_invalid_joins():
    h = Harness()
    assert h.replies.pop(h.join(session=1000))["error_code"] == 26  # INVALID_SESSION_TIMEOUT
    assert h.replies.pop(h.join(group=""))["error_code"] == 24  # INVALID_GROUP_ID
    assert h.replies.pop(h.join(member_id="made-up"))["error_code"] == 25
    _stable_group_of_two(h)
    t = h.join(protocols=[("other", b"")])
    assert h.replies.pop(t)["error_code"] == 23  # INCONSISTENT_GROUP_PROTOCOL


def test_group_max_size():
    h = Harness(max_size=1)
    h.join_new()
    t = h.join()
    assert h.replies.pop(t)["error_code"] == 81  # GROUP_MAX_SIZE_REACHED


def test_member_that_never_syncs_is_removed_after_the_rebalance_timeout():
    h = Harness()
    j1, m1 = h.join_new(rebalance=20000)
    j2, m2 = h.join_new(rebalance=20000)
    h.tick(3000)
    gen = h.replies.pop(j1)["generation_id"]
    h.replies.pop(j2)
    s2 = h.sync(m2, gen)  # the follower syncs; the leader (m1) never does
    for _ in range(4):
        h.tick(5000)
        h.heartbeat(m1, gen)
        h.heartbeat(m2, gen)
    g = h.machine.groups["g"]
    assert m1 not in g.members and m2 in g.members
    assert h.replies.pop(s2)["error_code"] == 27  # the parked follower is told to rejoin
    assert g.state == "PreparingRebalance"
