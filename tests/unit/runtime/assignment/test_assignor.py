"""StreamsPartitionAssignor: co-partitioning, clients and threads, shutdown, endpoints, config; and scenarios
(warm client wins, a new client gets tasks only after warm-up, a removed client's tasks go to its standbys)."""
from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest

from pystreams.errors import ConfigError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    LATEST_OFFSET,
    SHUTDOWN_REQUESTED,
    AssignmentError,
    StreamsPartitionAssignor,
    assignor_for,
)
from tests.unit.runtime.assignment.support import (
    active_tasks,
    ends,
    member,
    next_round,
    plan,
    process_of,
    settle,
)

pytestmark = pytest.mark.unit
BIG = 1_000_000  # changelog end offsets: a cold client is far from caught up (acceptable.recovery.lag 10,000)


def per_process(members, result, kind="active"):
    out: Counter[str] = Counter()
    for m, a in result.items():
        tasks = a.info.active_tasks if kind == "active" else a.info.standby_tasks
        out[process_of(members, m)] += len(tasks)
    return out


def test_co_partitioned_inputs_of_a_task_go_to_one_member_together():
    p = plan(4, joined=True)
    members = {"a-1": member("A"), "b-1": member("B")}
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, {})
    for a in result.values():
        for task, tps in a.info.active_tasks.items():
            assert sorted(tps) == [("in", task.partition), ("other", task.partition)]
        assert sorted(a.partitions) == sorted(tp for tps in a.info.active_tasks.values() for tp in tps)
    assert sorted(active_tasks(result)) == [TaskId(0, p_) for p_ in range(4)]


def test_clients_are_grouped_by_process_and_tasks_spread_over_their_threads():
    p = plan(6, 2)
    members = {"a-1": member("A"), "a-2": member("A"), "b-1": member("B"), "b-2": member("B")}
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, 0))
    assert per_process(members, result) == {"A": 4, "B": 4}
    assert sorted(len(result[m].info.active_tasks) for m in ("a-1", "a-2")) == [2, 2]


def test_a_client_with_more_threads_gets_more_tasks():
    """Balanced per thread (Kafka's tasks / capacity): 6 stateful tasks over 3 threads is 4 + 2 exactly; the
    2 stateless ones bring the totals to 5 + 3 (shares 5.33 and 2.67), 3 or 2 tasks on every thread."""
    p = plan(6, 2)
    members = {"a-1": member("A"), "a-2": member("A"), "b-1": member("B")}
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, 0))
    stateful = Counter(process_of(members, m) for m, a in result.items() for t in a.info.active_tasks
                       if t.subtopology == 0)
    assert stateful == {"A": 4, "B": 2}
    assert per_process(members, result) == {"A": 5, "B": 3}
    assert sorted(len(result[m].info.active_tasks) for m in ("a-1", "a-2")) == [2, 3]


def test_the_partition_counts_given_decide_the_tasks_and_missing_topics_fail_clearly():
    p = plan(2)
    result = StreamsPartitionAssignor(p, 0).assign({"in": 3}, {"a": member("A")}, {})
    assert sorted(result["a"].info.active_tasks) == [TaskId(0, 0), TaskId(0, 1), TaskId(0, 2)]
    p.topic_partitions.clear()
    with pytest.raises(AssignmentError, match="no partition count for source topic in"):
        StreamsPartitionAssignor(p, 0).assign({}, {"a": member("A")}, {})


def test_a_shutdown_request_from_any_member_stops_every_member():
    p = plan(4)
    members = {"a-1": member("A", owned=[("in", 0)]), "b-1": member("B", error=SHUTDOWN_REQUESTED)}
    result = StreamsPartitionAssignor(p, 1).assign(p.topic_partitions, members, {})
    assert set(result) == {"a-1", "b-1"}
    for a in result.values():
        assert a.info.error_code == SHUTDOWN_REQUESTED
        assert a.partitions == [] and a.info.active_tasks == {} and a.info.standby_tasks == {}


def test_hosts_map_active_and_standby_input_partitions_for_interactive_queries():
    p = plan(4)
    members = {"a-1": member("A", endpoint="a:1"), "b-1": member("B", endpoint="b:2"), "c-1": member("C")}
    result = StreamsPartitionAssignor(p, 1).assign(p.topic_partitions, members, ends(p, 0))
    info = result["c-1"].info
    assert set(info.partitions_by_host) == {"a:1", "b:2"}
    assert sorted(info.partitions_by_host["a:1"]) == sorted(tp for tps in result["a-1"].info.active_tasks.values()
                                                           for tp in tps)
    assert sorted(info.standby_partitions_by_host["b:2"]) == sorted(("in", t.partition)
                                                                   for t in result["b-1"].info.standby_tasks)
    assert all(a.info.partitions_by_host == info.partitions_by_host for a in result.values())


def test_standby_tasks_carry_their_input_partitions_as_kafkas():
    """Kafka's buildStandbyTaskMap sends a standby's task partitions (a Java member builds its StandbyTask from
    them); the changelogs follow from the task id on the member."""
    p = plan(2, joined=True)
    result = StreamsPartitionAssignor(p, 1).assign(p.topic_partitions, {"a": member("A"), "b": member("B")},
                                                   ends(p, 0))
    standbys = {t: tps for a in result.values() for t, tps in a.info.standby_tasks.items()}
    assert standbys == {t: [("in", t.partition), ("other", t.partition)] for t in (TaskId(0, 0), TaskId(0, 1))}
    assert StreamsPartitionAssignor(p, 1).changelog_partitions({"in": 2}) == {
        TaskId(0, 0): [("app-counts-changelog", 0)], TaskId(0, 1): [("app-counts-changelog", 1)]}


def test_warm_client_wins():
    """A full restart: nobody owns anything; each task goes to the client whose checkpoint is caught up."""
    p = plan(2)
    t0, t1 = TaskId(0, 0), TaskId(0, 1)
    members = {"a-1": member("A", sums={t1: BIG - 5}), "b-1": member("B", sums={t0: BIG, t1: 3})}
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, BIG))
    assert result["a-1"].info.active_tasks == {t1: [("in", 1)]}
    assert result["b-1"].info.active_tasks == {t0: [("in", 0)]}
    assert result["a-1"].info.followup_rebalance_ms == -1  # nothing to warm up


def test_no_caught_up_client_means_the_smallest_lag():
    p = plan(2)
    t0, t1 = TaskId(0, 0), TaskId(0, 1)
    members = {"a-1": member("A", sums={t0: 500_000, t1: 600_000}), "b-1": member("B", sums={t0: 1})}
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, BIG))
    assert set(result["a-1"].info.active_tasks) == {t0, t1}  # both far behind, but A is less far behind
    # t0 went to A (least behind); t1's balanced target was B: A takes it too and B warms it up
    assert result["b-1"].info.standby_tasks == {t1: [("in", 1)]}
    assert result["b-1"].info.followup_rebalance_ms == 600_000


def test_a_new_client_gets_tasks_only_after_warm_up():
    p = plan(6)
    assignor = StreamsPartitionAssignor(p, 0, max_warmup_replicas=2, probing_rebalance_interval_ms=60_000)
    members = {"a-1": member("A"), "b-1": member("B")}
    settled = settle(assignor, p.topic_partitions, members, ends(p, BIG))
    members = next_round(members, settled)
    members["c-1"] = member("C")
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    assert first["c-1"].info.active_tasks == {}
    warmups = set(first["c-1"].info.standby_tasks)
    assert len(warmups) == 2  # max.warmup.replicas
    assert all(a.info.followup_rebalance_ms == 60_000 for a in first.values())
    assert active_tasks(first) == active_tasks(settled)  # nobody lost a task to a cold client
    # the warm-ups catch up; the probing rebalance moves those tasks (revoke first, then assign)
    caught_up = {"C": {t: BIG for t in warmups}}
    after = settle(assignor, p.topic_partitions, next_round(members, first, caught_up), ends(p, BIG),
                   sums_of=caught_up)
    assert set(after["c-1"].info.active_tasks) == warmups
    assert sorted(per_process(members, after).values()) == [2, 2, 2]
    assert after["c-1"].info.followup_rebalance_ms == -1


def test_a_removed_clients_tasks_go_to_its_standbys():
    p = plan(6)
    assignor = StreamsPartitionAssignor(p, 1)
    members = {"a-1": member("A"), "b-1": member("B"), "c-1": member("C")}
    settled = settle(assignor, p.topic_partitions, members, ends(p, BIG))
    c_tasks = set(settled["c-1"].info.active_tasks)
    standby_of = {t: process_of(members, m) for m, a in settled.items() for t in a.info.standby_tasks}
    assert c_tasks and all(standby_of[t] != "C" for t in c_tasks)
    # standbys report their applied offsets (caught up); C is gone
    sums = {proc: {t: BIG for m, a in settled.items() if process_of(members, m) == proc
                   for t in a.info.standby_tasks} for proc in ("A", "B")}
    rest = next_round({m: s for m, s in members.items() if m != "c-1"}, settled, sums)
    result = assignor.assign(p.topic_partitions, rest, ends(p, BIG))
    for t in c_tasks:
        owners = [m for m, a in result.items() if t in a.info.active_tasks]
        assert [process_of(members, m) for m in owners] == [standby_of[t]]
    assert result["a-1"].info.followup_rebalance_ms == -1


def test_a_task_moving_between_members_is_revoked_first_then_assigned():
    p = plan(4)
    assignor = StreamsPartitionAssignor(p, 0)
    members = {"a-1": member("A", owned=[("in", i) for i in range(4)],
                             sums={TaskId(0, i): LATEST_OFFSET for i in range(4)}),
               "b-1": member("B", sums={TaskId(0, i): BIG for i in range(4)})}  # B is warm: balance moves two
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    assert len(first["a-1"].info.active_tasks) == 2 and first["b-1"].info.active_tasks == {}
    second = assignor.assign(p.topic_partitions, next_round(members, first), ends(p, BIG))
    moved = {TaskId(0, i) for i in range(4)} - set(first["a-1"].info.active_tasks)
    assert set(second["b-1"].info.active_tasks) == moved
    assert second["a-1"].info.active_tasks == first["a-1"].info.active_tasks


def test_assignor_for_reads_kafka_config_keys():
    p = plan(2)
    a = assignor_for(p, {"num.standby.replicas": "2", "acceptable.recovery.lag": 7, "max.warmup.replicas": 3,
                         "probing.rebalance.interval.ms": 120_000})
    assert (a.num_standby_replicas, a.acceptable_recovery_lag, a.max_warmup_replicas,
            a.probing_rebalance_interval_ms) == (2, 7, 3, 120_000)
    d = assignor_for(p, {})
    assert (d.num_standby_replicas, d.acceptable_recovery_lag, d.max_warmup_replicas,
            d.probing_rebalance_interval_ms) == (0, 10_000, 2, 600_000)
    with pytest.raises(ConfigError, match="acceptable.recovery.lag must be an integer"):
        assignor_for(p, {"acceptable.recovery.lag": "lots"})
    with pytest.raises(ConfigError, match="probing.rebalance.interval.ms must be an integer >= 60000"):
        assignor_for(p, {"probing.rebalance.interval.ms": 10})
    with pytest.raises(ConfigError, match="max.warmup.replicas"):
        StreamsPartitionAssignor(p, 0, max_warmup_replicas=0)


def test_a_restarted_client_gets_back_the_tasks_its_state_dir_holds():
    p = plan(4)
    assignor = StreamsPartitionAssignor(p, 0)
    members = {"a-1": member("A"), "b-1": member("B")}
    settled = settle(assignor, p.topic_partitions, members, ends(p, BIG))
    b_tasks = set(settled["b-1"].info.active_tasks)
    assert len(b_tasks) == 2
    alone = settle(assignor, p.topic_partitions, next_round({"a-1": members["a-1"]}, settled), ends(p, BIG))
    assert len(alone["a-1"].info.active_tasks) == 4
    # B comes back with its checkpoints (a clean shutdown wrote them: caught up), while A runs everything
    members = next_round({"a-1": members["a-1"]}, alone)
    members["b-1"] = member("B", sums={t: BIG for t in b_tasks})
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    assert first["b-1"].info.active_tasks == {}  # A revokes first; B keeps its state warm meanwhile (Kafka's
    assert set(first["b-1"].info.standby_tasks) == b_tasks  # buildStandbyTaskMap) and rejoins at once
    assert first["b-1"].info.followup_rebalance_ms == 0
    assert set(first["a-1"].info.active_tasks) == {TaskId(0, i) for i in range(4)} - b_tasks
    assert first["a-1"].info.followup_rebalance_ms == -1  # nothing to warm up
    second = assignor.assign(p.topic_partitions, next_round(members, first, {"B": {t: BIG for t in b_tasks}}),
                             ends(p, BIG))
    assert set(second["b-1"].info.active_tasks) == b_tasks


@pytest.mark.parametrize("held", list(combinations(range(4), 2)))
def test_a_restarted_client_gets_its_own_tasks_back_when_every_client_counts_as_caught_up(held):
    """Changelogs shorter than acceptable.recovery.lag make even a client without state 'caught up' (Kafka's
    ClientState: lag = end offset sum - offset sum, no state = the whole changelog), so the caught-up test alone
    cannot tell B's own tasks from the others: A, over its quota, must give up the ones B holds warm. (The
    system test test_assignment_state_aware.py failed whenever B held 0_0/0_1-like tasks: A kept the first two
    in task order and B got the two it had no state for.)"""
    p = plan(4)
    assignor = StreamsPartitionAssignor(p, 0)
    end = 700  # per changelog partition, far below acceptable.recovery.lag (10,000)
    b_tasks = {TaskId(0, i) for i in held}
    # B closed cleanly: its checkpoints are a few records behind; an empty checkpoint (sum 0) for another task
    empty = TaskId(0, min(set(range(4)) - set(held)))
    b_sums = {**{t: end - 20 for t in b_tasks}, empty: 0}
    members = {"a-1": member("A", owned=[("in", i) for i in range(4)],
                             sums={TaskId(0, i): LATEST_OFFSET for i in range(4)}),
               "b-1": member("B", sums=b_sums)}
    first = assignor.assign(p.topic_partitions, members, ends(p, end))
    assert set(first["a-1"].info.active_tasks) == {TaskId(0, i) for i in range(4)} - b_tasks  # A revokes B's
    assert first["b-1"].info.active_tasks == {}
    # A closed the revoked tasks and checkpointed them: now A is the warmer of the two for them
    second = assignor.assign(p.topic_partitions, next_round(members, first, {"A": {t: end for t in b_tasks},
                                                                             "B": b_sums}), ends(p, end))
    assert set(second["b-1"].info.active_tasks) == b_tasks
    assert set(second["a-1"].info.active_tasks) == {TaskId(0, i) for i in range(4)} - b_tasks


def test_warm_ups_come_on_top_of_the_standbys():
    p = plan(4)
    assignor = StreamsPartitionAssignor(p, 1, max_warmup_replicas=1)
    members = {"a-1": member("A"), "b-1": member("B")}
    settled = settle(assignor, p.topic_partitions, members, ends(p, BIG))
    members = next_round(members, settled)
    members["c-1"] = member("C")
    result = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    (warm,) = result["c-1"].info.standby_tasks  # one warm-up (max.warmup.replicas), no active yet
    keepers = [process_of(members, m) for m, a in result.items() if warm in a.info.standby_tasks]
    owner = [process_of(members, m) for m, a in result.items() if warm in a.info.active_tasks]
    assert sorted(keepers) == sorted(["C", *({"A", "B"} - set(owner))])  # the warm-up and the usual standby


def test_an_older_member_makes_every_assignment_its_version():
    """Kafka's minReceivedMetadataVersion / minSupportedMetadataVersion: during a rolling upgrade the leader
    answers everyone in the oldest subscription version, and says which version all of them support."""
    from pystreams.runtime.assignment import MemberSubscription, SubscriptionInfo
    from pystreams.runtime.assignment.kafka_info import LATEST_SUPPORTED_VERSION

    p = plan(2)
    old = MemberSubscription(["in"], SubscriptionInfo("B", None, version=7, latest_supported_version=9))
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, {"a": member("A"), "b": old}, ends(p, 0))
    assert {(a.info.version, a.info.commonly_supported_version) for a in result.values()} == {(7, 9)}
    assert len(result["b"].info.active_tasks) == 1  # the old member is a client like any other
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, {"a": member("A")}, ends(p, 0))
    assert (result["a"].info.version, result["a"].info.commonly_supported_version) == (LATEST_SUPPORTED_VERSION,) * 2
