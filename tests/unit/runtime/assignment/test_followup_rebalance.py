"""The immediate follow-up rebalance of a task changing owners (Kafka's StreamsPartitionAssignor.addClientAssignments:
"Requesting followup rebalance be scheduled immediately ... due to tasks changing ownership"): the member a task
was withheld from this round gets nextRebalanceMs 0 and rejoins at once; a stateful one it has state for stays a
standby there meanwhile (buildStandbyTaskMap); the member that gives the task up gets no follow-up (it rejoins
because it revoked partitions). Member side: a follow-up of 0 is a rejoin now, a later one is delayed."""
from __future__ import annotations

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import LATEST_OFFSET, AssignmentInfo, StreamsPartitionAssignor
from pystreams.runtime.assignment.kafka_info import NO_FOLLOWUP, decode_assignment
from pystreams.runtime.group.client import JoinResult
from tests.unit.runtime.assignment.support import ends, member, next_round, plan
from tests.unit.runtime.group.fakes import assignment
from tests.unit.runtime.group.test_streams_member import member as streams_member

pytestmark = pytest.mark.unit
BIG = 1_000_000
ALL = [TaskId(0, i) for i in range(4)]


def _a_owns_everything(b_sums: dict[TaskId, int] | None = None, b_standbys: frozenset[TaskId] = frozenset(),
                       stateless: bool = False):
    p = plan(0, 4) if stateless else plan(4)
    topic, sub = ("plain", 1) if stateless else ("in", 0)
    tasks = [TaskId(sub, i) for i in range(4)]
    members = {"a-1": member("A", owned=[(topic, i) for i in range(4)], sums={t: LATEST_OFFSET for t in tasks},
                             topics=[topic]),
               "b-1": member("B", sums=b_sums, standbys=b_standbys, topics=[topic])}
    return p, members, tasks


def test_the_member_a_task_is_withheld_from_is_asked_to_rejoin_at_once():
    p, members, tasks = _a_owns_everything({t: BIG for t in ALL})  # B warm: balance moves two tasks to it
    assignor = StreamsPartitionAssignor(p, 0)
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    assert first["b-1"].info.active_tasks == {}  # withheld until A revoked them
    assert first["b-1"].info.followup_rebalance_ms == 0
    assert first["a-1"].info.followup_rebalance_ms == -1  # A rejoins anyway: it revoked partitions
    # on the wire: Kafka's nextRebalanceMs 0 (a Java member schedules an immediate rebalance from it too)
    assert decode_assignment(first["b-1"].info.encode(now_ms=5_000)).next_rebalance_ms == 0
    assert decode_assignment(first["a-1"].info.encode(now_ms=5_000)).next_rebalance_ms == NO_FOLLOWUP
    second = assignor.assign(p.topic_partitions, next_round(members, first), ends(p, BIG))
    assert len(second["b-1"].info.active_tasks) == 2  # handed over
    assert {a.info.followup_rebalance_ms for a in second.values()} == {-1}  # stable: no more follow-ups


def test_a_stateless_task_moving_asks_for_the_follow_up_too():
    p, members, tasks = _a_owns_everything(stateless=True)
    first = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, {})
    assert first["b-1"].info.active_tasks == {} and first["b-1"].info.standby_tasks == {}
    assert first["b-1"].info.followup_rebalance_ms == 0
    assert len(first["a-1"].info.active_tasks) == 2


def test_a_withheld_task_the_member_keeps_a_standby_of_stays_a_standby_until_it_is_handed_over():
    p, members, _ = _a_owns_everything({TaskId(0, 0): BIG - 5, TaskId(0, 1): BIG - 5},
                                       b_standbys=frozenset({TaskId(0, 0), TaskId(0, 1)}))
    assignor = StreamsPartitionAssignor(p, 0)  # no standbys configured: only the temporary one
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    assert first["b-1"].info.active_tasks == {}
    assert first["b-1"].info.standby_tasks == {TaskId(0, 0): [("in", 0)], TaskId(0, 1): [("in", 1)]}
    assert first["b-1"].info.followup_rebalance_ms == 0
    second = assignor.assign(p.topic_partitions, next_round(members, first), ends(p, BIG))
    assert set(second["b-1"].info.active_tasks) == {TaskId(0, 0), TaskId(0, 1)}
    assert second["b-1"].info.standby_tasks == {}


def test_no_temporary_standby_without_local_state():
    """A cold member gets no standby of a task it is to receive (Kafka: previouslyOwnedStandby only), but its
    follow-up is immediate all the same; here the balanced target goes to B because every client is caught up
    (changelogs shorter than acceptable.recovery.lag)."""
    p, members, _ = _a_owns_everything()
    first = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, 100))
    assert first["b-1"].info.active_tasks == {} and first["b-1"].info.standby_tasks == {}
    assert first["b-1"].info.followup_rebalance_ms == 0


def test_a_warm_up_round_keeps_the_probing_delay_for_members_nothing_is_withheld_from():
    p, members, _ = _a_owns_everything()  # B cold, changelogs long: B gets warm-ups, no task moves now
    first = StreamsPartitionAssignor(p, 0, probing_rebalance_interval_ms=60_000).assign(
        p.topic_partitions, members, ends(p, BIG))
    assert first["b-1"].info.active_tasks == {} and len(first["b-1"].info.standby_tasks) == 2
    assert {a.info.followup_rebalance_ms for a in first.values()} == {60_000}


@pytest.mark.parametrize("followup, now", [(0, True), (60_000, False), (-1, False)])
def test_the_member_rejoins_at_once_only_for_a_follow_up_of_zero(tmp_path, followup, now):
    m, client = streams_member(tmp_path, "p1")
    client.script("join", JoinResult(1, "m1", "other", "stream", []))
    client.script("sync", assignment([], AssignmentInfo(followup_rebalance_ms=followup).encode()))
    polled = m.poll()
    assert polled is not None and polled[1].followup_rebalance_ms == followup
    assert m.member.rejoin_needed is now
    assert (m.member._rejoin_at is not None) is (followup > 0)  # a probing rebalance waits its delay
