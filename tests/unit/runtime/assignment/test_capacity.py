"""Clients of different sizes: the assignor balances tasks per stream thread, as Kafka's
HighAvailabilityTaskAssignor does (load = tasks / capacity, capacity = the client's threads), in the stateful,
stateless and standby passes, and still respects stickiness and local state (warm-ups, probing)."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import LATEST_OFFSET, StreamsPartitionAssignor
from pystreams.runtime.assignment.placement import ClientState, Quota, place
from pystreams.runtime.assignment.topology_tasks import plan_tasks
from tests.unit.runtime.assignment.support import (
    assert_balanced_per_thread,
    ends,
    member,
    next_round,
    plan,
    process_of,
)

pytestmark = pytest.mark.unit
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BIG = 1_000_000  # changelog end offsets: a client without state is far from caught up


def clients_of(sizes: dict[str, int]) -> dict[str, object]:
    """Members for clients of the given thread counts: 'A' with 3 threads -> a-0, a-1, a-2."""
    return {f"{name.lower()}-{i}": member(name) for name, n in sizes.items() for i in range(n)}


def per_client(members, result, kind="active") -> Counter[str]:
    out: Counter[str] = Counter({s.info.process_id: 0 for s in members.values()})
    for m, a in result.items():
        out[process_of(members, m)] += len(a.info.active_tasks if kind == "active" else a.info.standby_tasks)
    return out


def per_thread(result, kind="active") -> dict[str, int]:
    return {m: len(a.info.active_tasks if kind == "active" else a.info.standby_tasks) for m, a in result.items()}


def probe_until_final(assignor, p, members, end, rounds=40):
    """Rounds of the protocol where every warm-up catches up before the next (probing) rebalance."""
    end_sum = {t: sum(end.get(tp, 0) for tp in s.changelogs) for t, s in plan_tasks(p, p.topic_partitions).items()}
    warm: dict[str, dict[TaskId, int]] = {}
    result = assignor.assign(p.topic_partitions, members, end)
    for _ in range(rounds):
        for m, a in result.items():
            warm.setdefault(process_of(members, m), {}).update({t: end_sum[t] for t in a.info.standby_tasks})
        members = next_round(members, result, warm)
        again = assignor.assign(p.topic_partitions, members, end)
        if again == result and all(a.info.followup_rebalance_ms == -1 for a in again.values()):
            return members, again
        result = again
    raise AssertionError(f"no final assignment after {rounds} rounds: {per_client(members, result)}")


def test_the_auditors_case_twelve_stateful_tasks_over_four_plus_one_threads():
    """Was {'A': 6, 'B': 6}: B's one thread ran 6 tasks while A's four ran 1 or 2. Now every thread runs 2 or 3
    (12 tasks / 5 threads). Kafka ends at 9/3 too: its round-robin deal gives 6/6, then balanceTasksOverThreads
    moves tasks from B to A while a move lowers the skew (B at 3, load 3 vs 2.25: one more would invert it)."""
    p = plan(12)
    members = clients_of({"A": 4, "B": 1})
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, 0))
    assert per_client(members, result) == {"A": 9, "B": 3}
    assert set(per_thread(result).values()) <= {2, 3}
    assert_balanced_per_thread(members, result)


def test_stateless_tasks_are_balanced_per_thread_too():
    p = plan(0, 8)
    members = clients_of({"A": 3, "B": 1})
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, {})
    assert per_client(members, result) == {"A": 6, "B": 2}
    assert set(per_thread(result).values()) == {2}


def test_stateful_and_stateless_tasks_add_up_per_thread():
    p = plan(5, 7)  # 12 tasks over 4 threads: 3 on each
    members = clients_of({"A": 3, "B": 1})
    result = StreamsPartitionAssignor(p, 0).assign(p.topic_partitions, members, ends(p, 0))
    assert set(per_thread(result).values()) == {3}
    stateful = Counter(process_of(members, m) for m, a in result.items() for t in a.info.active_tasks
                       if t.subtopology == 0)
    assert stateful["A"] in (3, 4)  # 5 * 3/4 = 3.75 of the stateful tasks


def test_standbys_go_to_the_least_loaded_client_per_thread():
    """12 stateful tasks, one standby each, over A (3 threads) and B, C, D (1 each): 2 actives and 2 standbys
    per thread. The standbys of A's 6 tasks can only go to B, C and D (2 each); so the standbys of the other
    tasks all go to A. (Per client, as before, A would have taken 3 and B, C and D 3 each.)"""
    p = plan(12)
    members = clients_of({"A": 3, "B": 1, "C": 1, "D": 1})
    result = StreamsPartitionAssignor(p, 1).assign(p.topic_partitions, members, ends(p, 0))
    assert per_client(members, result) == {"A": 6, "B": 2, "C": 2, "D": 2}
    assert per_client(members, result, "standby") == {"A": 6, "B": 2, "C": 2, "D": 2}
    assert set(per_thread(result, "standby").values()) == {2}
    for m, a in result.items():  # never a standby next to its active
        mine = [x for x in members if process_of(members, x) == process_of(members, m)]
        assert not set(a.info.standby_tasks) & {t for x in mine for t in result[x].info.active_tasks}


def test_a_bigger_client_joining_warms_up_first_and_then_gets_its_share():
    """A (one thread) runs all 8 tasks; B joins with 3 threads and no state. The state constraint keeps the
    tasks on A while B warms up max.warmup.replicas of them; probing rebalances then move 6 (3/4) to B."""
    p = plan(8)
    assignor = StreamsPartitionAssignor(p, 0, max_warmup_replicas=2, probing_rebalance_interval_ms=60_000)
    running = {TaskId(0, i): LATEST_OFFSET for i in range(8)}
    members = {"a-0": member("A", owned=[("in", i) for i in range(8)], sums=running), **clients_of({"B": 3})}
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    assert per_client(members, first) == {"A": 8, "B": 0}
    assert per_client(members, first, "standby") == {"A": 0, "B": 2}
    assert all(a.info.followup_rebalance_ms == 60_000 for a in first.values())
    members, final = probe_until_final(assignor, p, members, ends(p, BIG))
    assert per_client(members, final) == {"A": 2, "B": 6}
    assert set(per_thread(final).values()) == {2}


def test_adding_a_thread_to_a_client_moves_tasks_to_it_only_after_warm_up():
    """add_stream_thread(): B's second thread joins as a new member of the same client; B's share grows from
    1/2 to 2/3, but B has no state for A's tasks, so they move only after a warm-up."""
    p = plan(8)
    assignor = StreamsPartitionAssignor(p, 0)
    members, settled = probe_until_final(assignor, p, clients_of({"A": 1, "B": 1}), ends(p, BIG))
    assert per_client(members, settled) == {"A": 4, "B": 4}
    members = next_round(members, settled)
    members["b-1"] = member("B")
    first = assignor.assign(p.topic_partitions, members, ends(p, BIG))
    a_tasks = set(settled["a-0"].info.active_tasks)
    assert set(first["a-0"].info.active_tasks) == a_tasks  # nothing moves to a cold client
    assert set(first["b-0"].info.standby_tasks) | set(first["b-1"].info.standby_tasks) <= a_tasks
    assert per_client(members, first, "standby")["B"] >= 1  # a warm-up
    members, final = probe_until_final(assignor, p, members, ends(p, BIG))
    assert per_client(members, final) == {"A": 3, "B": 5}  # shares 2.67 and 5.33
    assert set(per_thread(final).values()) <= {2, 3}


def test_quota_is_each_clients_share_in_proportion_to_its_threads():
    counts = {"A": 0, "B": 0, "C": 0}
    quota = Quota(10, counts, {"A": 3, "B": 1, "C": 1})  # shares 6, 2, 2
    assert quota.floor == {"A": 6, "B": 2, "C": 2} and quota.extra == 0
    quota = Quota(7, counts, {"A": 3, "B": 1, "C": 1})  # shares 4.2, 1.4, 1.4: one of them one above
    assert quota.floor == {"A": 4, "B": 1, "C": 1} and quota.extra == 1
    counts.update(A=4, B=1, C=1)
    assert all(quota.can_take(c) for c in counts)
    quota.take("C")
    assert not any(quota.can_take(c) for c in counts)
    assert Quota(7, {"A": 0, "B": 0}).floor == {"A": 3, "B": 3}  # no capacities: one each (the threads' own)


@st.composite
def sized_groups(draw):
    """Clients of 1-6 threads (at least two sizes), up to 24 stateful and 12 stateless tasks, no local state."""
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=4).filter(lambda s: len(set(s)) > 1))
    p = plan(draw(st.integers(0, 24)), draw(st.integers(0, 12)))
    if not p.subtopologies:
        p = plan(1)
    members = clients_of({f"C{i}": n for i, n in enumerate(sizes)})
    return p, StreamsPartitionAssignor(p, draw(st.integers(0, 2))), members


@SETTINGS
@given(sized_groups())
def test_fresh_assignments_are_balanced_per_thread(group):
    """Every thread of the group runs base or base + 1 tasks; per client, Kafka's criteria (loads within 1, no
    single move lowering the skew); the stateful tasks alone are each client's share, rounded down or up."""
    p, assignor, members = group
    result = assignor.assign(p.topic_partitions, members, ends(p, 0))
    threads = list(per_thread(result).values())
    assert max(threads) - min(threads) <= 1, threads
    assert_balanced_per_thread(members, result)
    sizes = Counter(s.info.process_id for s in members.values())
    stateful = [t for t, s in plan_tasks(p, p.topic_partitions).items() if s.stateful]
    got = Counter(process_of(members, m) for m, a in result.items() for t in a.info.active_tasks
                  if t in stateful)
    for client, n in sizes.items():
        share = len(stateful) * n / sum(sizes.values())
        assert int(share) <= got[client] <= -(-len(stateful) * n // sum(sizes.values())), (client, dict(got))


@st.composite
def client_states(draw):
    """(tasks, a factory of ClientStates of a given capacity, standbys, acceptable lag, warm-ups): random
    previous owners, kept standbys and lags."""
    from pystreams.runtime.assignment.topology_tasks import TaskSpec

    tasks = {TaskId(0, i): TaskSpec(TaskId(0, i), (("in", i),), (("cl", i),)) for i in range(draw(st.integers(0, 12)))}
    tasks.update({TaskId(1, i): TaskSpec(TaskId(1, i), (("plain", i),), ()) for i in range(draw(st.integers(0, 8)))})
    ids = sorted(tasks)
    end = draw(st.sampled_from([0, 50, BIG]))
    n = draw(st.integers(1, 5))
    prev = [(draw(st.sets(st.sampled_from(ids), max_size=4)) if ids else set(),
             draw(st.sets(st.sampled_from(ids), max_size=3)) if ids else set(),
             {t: draw(st.sampled_from([0, end, end // 2])) for t in ids if tasks[t].stateful}) for _ in range(n)]

    def make(capacity: int) -> list[ClientState]:
        out = []
        for i, (active, standby, lags) in enumerate(prev):
            c = ClientState(f"c{i}", capacity, set(active), set(standby))
            c.lags = {t: 0 if t in active else lag for t, lag in lags.items()}
            out.append(c)
        return out

    return tasks, make, draw(st.integers(0, 2)), draw(st.sampled_from([0, 100, 10_000])), draw(st.integers(1, 3))


@SETTINGS
@given(client_states(), st.integers(2, 6))
def test_equal_thread_counts_place_tasks_as_one_thread_each(case, threads):
    """Only the ratio of capacities matters: clients of k threads each get exactly the placement of clients of
    one thread each (the per-client balance from before capacities counted)."""
    tasks, make, replicas, lag, warmups = case
    one = place(tasks, make(1), replicas, lag, warmups)
    many = place(tasks, make(threads), replicas, lag, warmups)
    assert one.warmups == many.warmups
    for pid, c in one.clients.items():
        other = many.clients[pid]
        assert (c.active, c.standby, c.warmup) == (other.active, other.standby, other.warmup), pid
