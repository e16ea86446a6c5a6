"""Plans, members and a 'group simulator' for the assignor tests (no broker: the assignor is pure)."""
from __future__ import annotations

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
