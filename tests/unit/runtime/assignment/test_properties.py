"""Properties of the assignor over random plans, groups and local state (hypothesis)."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import LATEST_OFFSET, StreamsPartitionAssignor
from pystreams.runtime.assignment.topology_tasks import plan_tasks
from tests.unit.runtime.assignment.support import (
    assert_balanced_per_thread,
    ends,
    member,
    next_round,
    plan,
    settle,
)

pytestmark = pytest.mark.unit
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def groups(draw, fresh=False, max_threads=3):
    """(plan, assignor, members, end offsets): 1-5 clients of 1-max_threads threads, random local state and
    ownership."""
    p = plan(draw(st.integers(0, 8)), draw(st.integers(0, 6)), draw(st.booleans()))
    if not p.subtopologies:
        p = plan(1)
    tasks = sorted(plan_tasks(p, p.topic_partitions))
    assignor = StreamsPartitionAssignor(p, draw(st.integers(0, 2)), draw(st.sampled_from([0, 100, 10_000])),
                                        draw(st.integers(1, 3)))
    end = draw(st.sampled_from([0, 50, 1_000_000]))
    members = {}
    inputs = {t: list(spec.inputs) for t, spec in plan_tasks(p, p.topic_partitions).items()}
    free = list(tasks)
    for c in range(draw(st.integers(1, 5))):
        for th in range(draw(st.integers(1, max_threads))):
            owned, sums = [], {}
            if not fresh:
                for t in draw(st.lists(st.sampled_from(free), unique=True, max_size=3)) if free else []:
                    free.remove(t)
                    owned += inputs[t]
                    sums[t] = LATEST_OFFSET
                for t in draw(st.lists(st.sampled_from(tasks), unique=True, max_size=3)):
                    sums.setdefault(t, draw(st.integers(0, max(end, 1))))
            members[f"m{c}-{th}"] = member(f"client-{c}", owned=owned, sums=sums)
    return p, assignor, members, ends(p, end)


def _actives(result):
    return Counter(t for a in result.values() for t in a.info.active_tasks)


@SETTINGS
@given(groups())
def test_a_task_is_never_given_twice_and_nothing_moves_directly_between_members(group):
    p, assignor, members, end = group
    result = assignor.assign(p.topic_partitions, members, end)
    assert set(result) == set(members)
    assert all(n == 1 for n in _actives(result).values())
    owner = {tp: m for m, s in members.items() for tp in s.owned_partitions}
    for m, a in result.items():
        assert sorted(a.partitions) == sorted(tp for tps in a.info.active_tasks.values() for tp in tps)
        for tp in a.partitions:  # cooperative: a partition goes only to its owner or to a member when unowned
            assert owner.get(tp, m) == m
    # tasks left out this round are exactly ones some member owns now (it revokes them first)
    missing = set(plan_tasks(p, p.topic_partitions)) - set(_actives(result))
    inputs = {t: s.inputs for t, s in plan_tasks(p, p.topic_partitions).items()}
    assert all(any(tp in owner for tp in inputs[t]) for t in missing)


@SETTINGS
@given(groups())
def test_after_the_revocation_round_every_task_is_assigned_exactly_once(group):
    p, assignor, members, end = group
    result = settle(assignor, p.topic_partitions, members, end)
    assert _actives(result) == Counter(set(plan_tasks(p, p.topic_partitions)))
    for client in {s.info.process_id for s in members.values()}:  # a client's threads: counts differ by <= 1
        threads = [len(result[m].info.active_tasks) for m in members if members[m].info.process_id == client]
        assert max(threads) - min(threads) <= 1, threads
        standbys = [len(result[m].info.standby_tasks) for m in members if members[m].info.process_id == client]
        assert max(standbys) - min(standbys) <= 1, standbys


@SETTINGS
@given(groups())
def test_standbys_never_share_a_client_with_their_active(group):
    p, assignor, members, end = group
    result = assignor.assign(p.topic_partitions, members, end)
    clients = {s.info.process_id for s in members.values()}
    stateful = [t for t, s in plan_tasks(p, p.topic_partitions).items() if s.stateful]
    for client in clients:
        mine = [m for m in members if members[m].info.process_id == client]
        standby = Counter(t for m in mine for t in result[m].info.standby_tasks)
        assert all(n == 1 for n in standby.values())
        assert not set(standby) & {t for m in mine for t in result[m].info.active_tasks}
    copies = Counter(t for a in result.values() for t in a.info.standby_tasks)
    want = min(assignor.num_standby_replicas, len(clients) - 1)
    assert all(copies[t] >= want for t in stateful)
    # on top: warm-ups, and a standby where a task withheld this round (its owner revokes it first) goes next
    # (Kafka's buildStandbyTaskMap), at most one per withheld task
    withheld = set(stateful) - set(_actives(result))
    assert sum(copies.values()) <= want * len(stateful) + assignor.max_warmup_replicas + len(withheld)


@SETTINGS
@given(groups(fresh=True))
def test_with_no_state_to_respect_counts_are_balanced_per_thread(group):
    """Every thread of the group runs base or base + 1 tasks (so per client when thread counts are equal)."""
    p, assignor, members, _ = group
    result = assignor.assign(p.topic_partitions, members, ends(p, 0))
    threads = [len(a.info.active_tasks) for a in result.values()]
    assert max(threads) - min(threads) <= 1, threads
    assert_balanced_per_thread(members, result)
    assert all(a.info.followup_rebalance_ms == -1 for a in result.values())


@SETTINGS
@given(st.one_of(groups(), groups(max_threads=6)))
def test_when_nothing_changes_the_assignment_stays_the_same(group):
    p, assignor, members, end = group
    settled = settle(assignor, p.topic_partitions, members, end, rounds=6)
    again = assignor.assign(p.topic_partitions, next_round(members, settled), end)
    if all(a.info.followup_rebalance_ms == -1 for a in settled.values()):  # no warm-up pending
        assert again == settled


@SETTINGS
@given(groups(), st.randoms(use_true_random=False))
def test_the_same_input_gives_the_same_assignment_on_any_leader(group, rnd):
    p, assignor, members, end = group
    items = list(members.items())
    rnd.shuffle(items)
    other = StreamsPartitionAssignor(p, assignor.num_standby_replicas, assignor.acceptable_recovery_lag,
                                     assignor.max_warmup_replicas)
    assert other.assign(dict(p.topic_partitions), dict(items), dict(end)) == \
        assignor.assign(p.topic_partitions, members, end)


def test_warmups_never_exceed_max_warmup_replicas():
    p = plan(12)
    assignor = StreamsPartitionAssignor(p, 0, max_warmup_replicas=3)
    running = {TaskId(0, i): LATEST_OFFSET for i in range(12)}
    members = {"a": member("A", owned=[("in", i) for i in range(12)], sums=running),
               "b": member("B"), "c": member("C")}
    result = assignor.assign(p.topic_partitions, members, ends(p, 1_000_000))
    assert sum(len(a.info.standby_tasks) for a in result.values()) == 3
    assert len(result["a"].info.active_tasks) == 12


@SETTINGS
@given(st.one_of(groups(), groups(max_threads=6)))
def test_probing_rebalances_converge_to_a_balanced_assignment(group):
    """Warm-ups catch up between rounds (they report the end offsets); after enough probing rounds nothing is
    warming up any more and the assignment is balanced per thread (per client when thread counts are equal)."""
    p, assignor, members, end = group
    end_sum = {t: sum(end.get(tp, 0) for tp in s.changelogs) for t, s in plan_tasks(p, p.topic_partitions).items()}
    warm: dict[str, dict[TaskId, int]] = {}
    result = assignor.assign(p.topic_partitions, members, end)
    for _ in range(40):
        for m, a in result.items():
            warm.setdefault(members[m].info.process_id, {}).update({t: end_sum[t] for t in a.info.standby_tasks})
        members = next_round(members, result, warm)
        again = assignor.assign(p.topic_partitions, members, end)
        if again == result and all(a.info.followup_rebalance_ms == -1 for a in again.values()):
            break
        result = again
    assert all(a.info.followup_rebalance_ms == -1 for a in result.values())
    assert_balanced_per_thread(members, result)
