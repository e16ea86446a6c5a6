"""Plans, members and a 'group simulator' for the assignor tests (no broker: the assignor is pure)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    LATEST_OFFSET,
    MemberAssignment,
    MemberSubscription,
    StreamsPartitionAssignor,
    SubscriptionInfo,
)
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan


def plan(stateful_partitions: int = 4, stateless_partitions: int = 0, joined: bool = False) -> TopologyPlan:
    """Sub-topology 0: stateful (count store, changelog `app-counts-changelog`), reading `in` (and `other` when
    joined: co-partitioned); sub-topology 1: stateless, reading `plain`."""
    subs = []
    counts: dict[str, int] = {}
    changelogs: dict[str, int] = {}
    if stateful_partitions:
        topics = ["in", "other"] if joined else ["in"]
        subs.append(SubtopologyPlan(0, ("src",), topics, [], stateful_partitions,
                                    {"counts": "app-counts-changelog"}))
        counts.update({t: stateful_partitions for t in topics})
        changelogs["app-counts-changelog"] = stateful_partitions
    if stateless_partitions:
        subs.append(SubtopologyPlan(1, ("src2",), ["plain"], [], stateless_partitions, {}))
        counts["plain"] = stateless_partitions
    return TopologyPlan("app", subs, counts, {}, changelogs)


def member(process: str, owned: list[tuple[str, int]] = (), sums: Mapping[TaskId, int] | None = None,
           standbys: frozenset[TaskId] = frozenset(), endpoint: str | None = None, error: int = 0,
           topics: list[str] | None = None) -> MemberSubscription:
    return MemberSubscription(topics or ["in"], SubscriptionInfo(process, endpoint, dict(sums or {}), standbys, error),
                              list(owned))


def ends(p: TopologyPlan, offset: int) -> dict[tuple[str, int], int]:
    """Every changelog partition at end offset `offset`."""
    return {(t, i): offset for t, n in p.changelog_topics.items() for i in range(n)}


def active_tasks(result: Mapping[str, MemberAssignment]) -> dict[TaskId, list[str]]:
    out: dict[TaskId, list[str]] = {}
    for m, a in result.items():
        for t in a.info.active_tasks:
            out.setdefault(t, []).append(m)
    return out


def process_of(members: Mapping[str, MemberSubscription], member_id: str) -> str:
    return members[member_id].info.process_id


def next_round(members: Mapping[str, MemberSubscription], result: Mapping[str, MemberAssignment],
               sums_of: Mapping[str, Mapping[TaskId, int]] | None = None) -> dict[str, MemberSubscription]:
    """What each member subscribes with after applying `result`: owns its assigned partitions, runs its actives
    (LATEST_OFFSET), keeps its standbys; other local state from sums_of[process] (checkpointed sums)."""
    out = {}
    for m, sub in members.items():
        a = result[m]
        sums = dict((sums_of or {}).get(sub.info.process_id, {}))
        sums.update({t: LATEST_OFFSET for t in a.info.active_tasks})
        info = SubscriptionInfo(sub.info.process_id, sub.info.user_endpoint, sums,
                                frozenset(a.info.standby_tasks), 0)
        out[m] = MemberSubscription(sub.topics, info, list(a.partitions))
    return out


def settle(assignor: StreamsPartitionAssignor, counts: Mapping[str, int], members: dict[str, MemberSubscription],
           end_offsets: Mapping[tuple[str, int], int], rounds: int = 4,
           sums_of: Mapping[str, Mapping[TaskId, int]] | None = None) -> dict[str, MemberAssignment]:
    """Run rounds of the cooperative protocol until nothing is withheld (or `rounds` is reached)."""
    result = assignor.assign(counts, members, end_offsets)
    for _ in range(rounds):
        nxt = next_round(members, result, sums_of)
        again = assignor.assign(counts, nxt, end_offsets)
        if again == result:
            break
        members, result = nxt, again
    return result


def threads_of(members: Mapping[str, MemberSubscription]) -> Counter[str]:
    """process_id -> its members (stream threads): the client's capacity."""
    return Counter(s.info.process_id for s in members.values())


def assert_balanced_per_thread(members: Mapping[str, MemberSubscription], result: Mapping[str, MemberAssignment],
                               kind: str = "active") -> None:
    """Kafka's balance criteria on the actives (or standbys) per client: the loads (tasks / threads) differ by at
    most 1 (AssignmentTestUtils.assertBalancedActiveAssignment), no single move from a client to a less loaded
    one would lower their skew (HighAvailabilityTaskAssignor.shouldMoveATask), and with equal thread counts the
    client counts differ by at most one."""
    caps = threads_of(members)
    counts = Counter({c: 0 for c in caps})
    for m, a in result.items():
        counts[members[m].info.process_id] += len(a.info.active_tasks if kind == "active" else a.info.standby_tasks)
    loads = {c: counts[c] / caps[c] for c in caps}
    assert max(loads.values()) - min(loads.values()) <= 1, (dict(counts), dict(caps))
    for s in caps:
        for d in caps:
            if loads[s] > loads[d]:  # moving one task s -> d must overshoot (Kafka stops there)
                assert (counts[s] - 1) / caps[s] < (counts[d] + 1) / caps[d], (s, d, dict(counts), dict(caps))
    if len(set(caps.values())) == 1:
        assert max(counts.values()) - min(counts.values()) <= 1, dict(counts)
