"""Where tasks go, client by client (a client = one KafkaStreams process, all its threads): the pure core of the
assignor, in the spirit of Kafka's HighAvailabilityTaskAssignor.

Balance is per thread, as in Kafka (ClientState.assignedTaskLoad = tasks / capacity, capacity = the client's
members, i.e. its stream threads): a client's quota is its share of the tasks in proportion to its threads
(Quota), the least loaded client is the one with the fewest tasks per thread (ties: the fewest tasks, where
Kafka's round-robin start, equal counts per client, also leaves them), and the assignor then spreads a
client's tasks over its threads evenly. So every thread in the group runs base or base + 1 tasks of a fresh
assignment, and with equal thread counts this is the old per-client balance.

1. Stateful actives: a balanced, sticky target: each task goes to a caught-up client with room (its previous
   owner first, else the smallest lag), tasks with the fewest caught-up clients choosing first and, among those,
   the ones that would cost most to restore elsewhere; the rest to the clients with room and the smallest lag.
   Then the state constraint: when the target is not caught up (lag > acceptable.recovery.lag) and another
   client is more caught up, the task goes to the best caught-up client (or, if none is, the one with the
   smallest lag) and the target gets a warm-up replica (at most max.warmup.replicas in all), so a later
   probing rebalance can move it once it has caught up.
2. Stateless actives fill the clients up to a balanced total (sticky first).
3. Standbys: num.standby.replicas per stateful task on other clients (never the active's), warm ones first
   within a soft quota (in proportion to the threads), then the least loaded per thread; the tasks running on
   the clients with the most threads choose first. Warm-ups come on top (Kafka: "extra standbys beyond
   num.standby.replicas"), so a task keeps its caught-up standbys while another client warms up.
   With rack.aware.assignment.tags, Kafka's ClientTagAwareStandbyTaskAssignor instead (KIP-708,
   _place_standbys_by_tags): each standby on the least loaded client whose tag values differ from those of the
   active's and the task's other standbys' clients, falling back to the least loaded clients where the tags allow
   no more, then balanced between clients with the same tags only.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.topology_tasks import TaskSpec

log = logging.getLogger("pystreams.runtime.assignment")


@dataclass
class ClientState:
    """What the leader knows about one client, and what it is given; capacity = its members (stream threads)."""

    process_id: str
    capacity: int
    prev_active: set[TaskId] = field(default_factory=set)
    prev_standby: set[TaskId] = field(default_factory=set)
    local_state: set[TaskId] = field(default_factory=set)  # tasks with state on disk here, not running active
    tags: dict[str, str] = field(default_factory=dict)  # client.tag.<key>=<value> (KIP-708)
    lags: dict[TaskId, int] = field(default_factory=dict)  # stateful task -> records to restore on this client
    active: set[TaskId] = field(default_factory=set)
    standby: set[TaskId] = field(default_factory=set)
    warmup: set[TaskId] = field(default_factory=set)
    sub_counts: Counter[int] = field(default_factory=Counter)  # active tasks per sub-topology (to spread them)

    def add_active(self, task: TaskId) -> None:
        self.active.add(task)
        self.sub_counts[task.subtopology] += 1

    def remove_active(self, task: TaskId) -> None:
        if task in self.active:
            self.active.discard(task)
            self.sub_counts[task.subtopology] -= 1

    def lag(self, task: TaskId) -> int:
        return self.lags.get(task, 0)

    def load(self, count: int) -> float:
        """`count` tasks per thread of this client (Kafka's tasks / capacity), to compare clients of any size."""
        return count / max(1, self.capacity)


class Quota:
    """Counts balanced per thread: a client's exact share is total * capacity / (all capacities); it ends at the
    floor of its share or one above, and only `extra` (total - the floors) clients, ones whose share is
    fractional, go above (the largest-remainder bounds; which clients is up to the order of the takes).
    Each client then holds between capacity * base and capacity * (base + 1) tasks (base = total // threads),
    so after the even spread over its threads every thread runs base or base + 1 and the loads (tasks per
    thread) differ by at most 1, Kafka's balance criterion. Equal capacities (the default, 1 each): every
    client ends at total // clients or one more, as before capacities counted."""

    def __init__(self, total: int, counts: dict[str, int], capacities: dict[str, int] | None = None) -> None:
        caps = {c: max(1, (capacities or {}).get(c, 1)) for c in counts}
        threads = max(1, sum(caps.values()))
        self.floor = {c: total * caps[c] // threads for c in counts}
        self.fractional = {c for c in counts if total * caps[c] % threads}
        self.extra = total - sum(self.floor.values())
        self.counts = counts

    def can_take(self, client: str) -> bool:
        n, floor = self.counts[client], self.floor[client]
        if n < floor:
            return True
        if n > floor or client not in self.fractional:
            return False
        above = sum(1 for c, k in self.counts.items() if k > self.floor[c])
        return above < self.extra

    def take(self, client: str) -> None:
        self.counts[client] += 1


def _sub_load(c: ClientState, task: TaskId) -> float:
    """Active tasks of `task`'s sub-topology per thread of c (to spread each sub-topology in proportion)."""
    return c.load(c.sub_counts[task.subtopology])


def _regret(clients: list[ClientState], task: TaskId) -> int:
    """Extra records to restore if `task` cannot go to its warmest client: second smallest lag - smallest."""
    lags = sorted(c.lag(task) for c in clients)
    return lags[1] - lags[0] if len(lags) > 1 else 0


@dataclass
class Placement:
    """The result per client (process_id order) and how many warm-ups were handed out."""

    clients: dict[str, ClientState]
    warmups: int = 0


def place(tasks: dict[TaskId, TaskSpec], clients: list[ClientState], num_standby_replicas: int,
          acceptable_recovery_lag: int, max_warmup_replicas: int, rack_aware_tags: Sequence[str] = ()) -> Placement:
    """Fill active/standby/warmup of `clients` (sorted by process_id) for every task in `tasks`."""
    by_id = {c.process_id: c for c in clients}
    index = {c.process_id: i for i, c in enumerate(clients)}
    stateful = sorted(t for t, spec in tasks.items() if spec.stateful)
    stateless = sorted(t for t, spec in tasks.items() if not spec.stateful)
    if not clients:
        return Placement(by_id)

    def caught_up(c: ClientState, t: TaskId) -> bool:
        return c.lag(t) <= acceptable_recovery_lag

    def prev_owner(t: TaskId) -> ClientState | None:
        owners = [c for c in clients if t in c.prev_active]
        return min(owners, key=lambda c: (c.lag(t), index[c.process_id])) if owners else None

    # 1. stateful actives: a balanced target, sticky and warm where the quotas allow. Tasks with the fewest
    #    caught-up clients pick first, so a task that can run warm in one place only is not crowded out there;
    #    then the tasks that would cost most to restore elsewhere (_regret), so a previous owner over its quota
    #    keeps the tasks nobody else holds and gives up those another client has warm state for (e.g. a
    #    restarted client gets back the tasks its state dir still holds, also when every client counts as
    #    caught up because the changelogs are shorter than acceptable.recovery.lag). Among the clients with
    #    room a task goes to its previous owner, else to the smallest lag.
    counts = {c.process_id: 0 for c in clients}
    capacities = {c.process_id: c.capacity for c in clients}
    quota = Quota(len(stateful), counts, capacities)
    target: dict[TaskId, ClientState] = {}
    deferred = []
    for t in sorted(stateful, key=lambda t: (sum(1 for c in clients if caught_up(c, t)), -_regret(clients, t), t)):
        owner = prev_owner(t)
        ready = [c for c in clients if caught_up(c, t) and quota.can_take(c.process_id)]
        if not ready:
            deferred.append(t)
            continue
        best = min(ready, key=lambda c: (c is not owner, c.lag(t), c.load(counts[c.process_id]), counts[c.process_id],
                                         _sub_load(c, t), index[c.process_id]))
        target[t] = best
        best.add_active(t)
        quota.take(best.process_id)
    for t in sorted(deferred):
        room = [c for c in clients if quota.can_take(c.process_id)] or clients
        best = min(room, key=lambda c: (c.lag(t), c.load(counts[c.process_id]), counts[c.process_id],
                                        _sub_load(c, t), index[c.process_id]))
        target[t] = best
        best.add_active(t)
        quota.take(best.process_id)
    # ... then the state constraint: a task whose target is not caught up goes where its state is warmest
    warmups_left = max(0, max_warmup_replicas)
    warmups = 0
    for t in stateful:
        tgt = target[t]
        if caught_up(tgt, t):
            continue
        smallest = min(c.lag(t) for c in clients)
        if tgt.lag(t) <= smallest:
            continue  # nobody is better off: restore on the balanced target
        ready = [c for c in clients if caught_up(c, t)] or [c for c in clients if c.lag(t) == smallest]
        owner = prev_owner(t)
        best = min(ready, key=lambda c: (c is not owner, c.load(len(c.active)), len(c.active), index[c.process_id]))
        tgt.remove_active(t)
        best.add_active(t)
        if warmups_left > 0:
            tgt.warmup.add(t)
            tgt.standby.add(t)
            warmups_left -= 1
            warmups += 1
    # 2. stateless actives up to a balanced total
    totals = {c.process_id: len(c.active) for c in clients}
    quota = Quota(len(stateful) + len(stateless), totals, capacities)
    placed: set[TaskId] = set()
    for t in stateless:
        owner = prev_owner(t)
        if owner is not None and quota.can_take(owner.process_id):
            owner.add_active(t)
            quota.take(owner.process_id)
            placed.add(t)
    for t in stateless:
        if t in placed:
            continue
        room = [c for c in clients if quota.can_take(c.process_id)] or clients
        best = min(room, key=lambda c: (c.load(totals[c.process_id]), totals[c.process_id], _sub_load(c, t),
                                        index[c.process_id]))
        best.add_active(t)
        quota.take(best.process_id)
    # 3. standbys
    if rack_aware_tags:
        _place_standbys_by_tags(stateful, clients, index, num_standby_replicas, set(rack_aware_tags))
    else:
        _place_standbys(stateful, clients, index, num_standby_replicas, caught_up)
    return Placement(by_id, warmups)


def _place_standbys(stateful: list[TaskId], clients: list[ClientState], index: dict[str, int], replicas: int,
                    caught_up: Callable[[ClientState, TaskId], bool]) -> None:
    want = min(max(0, replicas), len(clients) - 1)
    if want <= 0:
        return
    threads = sum(max(1, c.capacity) for c in clients)
    # ceil: a client's standbys when spread evenly over all threads (in proportion to its capacity)
    soft_cap = {c.process_id: -(-(want * len(stateful) * max(1, c.capacity)) // threads) for c in clients}

    def holders(t: TaskId) -> int:
        return sum(1 for c in clients if t in c.standby and t not in c.warmup)

    def others(t: TaskId) -> list[ClientState]:
        return [c for c in clients if t not in c.active and t not in c.standby]

    # the tasks of the clients with the most threads choose first: their standbys can go only to the smaller
    # clients, whose room would otherwise fill up with the standbys of tasks that can also go to the big client
    # (a stable sort: with equal capacities the order, and so the placement, is the task order as before)
    active_cap = {t: c.capacity for c in clients for t in c.active}
    stateful = sorted(stateful, key=lambda t: -active_cap.get(t, 0))
    for t in stateful:  # warm clients first (kept standbys, caught-up state), within the soft cap
        warm = [c for c in others(t)
                if (t in c.prev_standby or caught_up(c, t)) and len(c.standby) < soft_cap[c.process_id]]
        for c in sorted(warm, key=lambda c: (c.lag(t), c.load(len(c.standby)), len(c.standby), index[c.process_id])):
            if holders(t) >= want:
                break
            c.standby.add(t)
    for t in stateful:  # then the least loaded (fewest standbys per thread)
        while holders(t) < want:
            candidates = others(t)
            if not candidates:
                break
            best = min(candidates, key=lambda c: (c.load(len(c.standby)), len(c.standby), c.lag(t),
                                                  index[c.process_id]))
            best.standby.add(t)


def _assigned(c: ClientState) -> int:
    """Kafka's ClientState.assignedTaskCount: actives and standbys (warm-ups included)."""
    return len(c.active) + len(c.standby)


def _place_standbys_by_tags(stateful: list[TaskId], clients: list[ClientState], index: dict[str, int],
                            replicas: int, rack_aware_tags: set[str]) -> None:
    """Kafka's ClientTagAwareStandbyTaskAssignor: for each stateful task, starting from its active's client, the
    next standby goes to the least loaded client (tasks per thread, actives and standbys; ties: the warmer state,
    then the process id) that holds no copy of the task and shares no tag value (of the rack.aware.assignment.tags
    keys) with a client already used for the task; a tag key whose values are all used by then (fewer values than
    clients used) stops counting. What cannot be placed so (too few tag values) goes to the least loaded clients
    without a copy, as Kafka's fallback; then standbys are balanced between clients whose tags match (Kafka's
    balanceTasksOverThreads with isAllowedTaskMovement)."""
    replicas = min(replicas, len(clients) - 1)  # never two copies on one client (as _place_standbys)
    if replicas <= 0:
        return
    values_of: dict[str, set[str]] = {}
    clients_with: dict[tuple[str, str], set[str]] = {}
    for c in clients:
        for key, value in c.tags.items():
            values_of.setdefault(key, set()).add(value)
            clients_with.setdefault((key, value), set()).add(c.process_id)

    def least_loaded(candidates: list[ClientState], t: TaskId) -> ClientState:
        return min(candidates, key=lambda c: (c.load(_assigned(c)), c.lag(t), index[c.process_id]))

    def free(t: TaskId, excluded: Collection[str] = ()) -> list[ClientState]:
        return [c for c in clients if t not in c.active and t not in c.standby and c.process_id not in excluded]

    pending: dict[TaskId, int] = {}
    for t in stateful:
        last = next((c for c in clients if t in c.active), None)
        if last is None:
            continue
        used_clients, remaining = 1, replicas
        used: dict[tuple[str, str], set[str]] = {}
        while remaining > 0:
            for key, value in last.tags.items():
                if key not in rack_aware_tags:
                    continue
                if len(values_of[key]) <= used_clients:  # every value of this key is used: it no longer counts
                    for v in values_of[key]:
                        used.pop((key, v), None)
                else:
                    used[(key, value)] = clients_with[(key, value)]
            candidates = free(t, set().union(*used.values()))
            if not candidates:
                break
            last = least_loaded(candidates, t)
            last.standby.add(t)
            used_clients += 1
            remaining -= 1
        if remaining:
            pending[t] = remaining
    if pending:
        log.warning("Rack aware standby task assignment was not able to assign %d of the %d standby tasks of the "
                    "active tasks %s with the rack aware assignment tags %s: there are not enough application "
                    "instances on tag values other than those of the active and its other standbys. Consider "
                    "launching instances on other tag values. These standbys go to the least loaded clients.",
                    sum(pending.values()), replicas * len(pending), ", ".join(str(t) for t in sorted(pending)),
                    sorted(rack_aware_tags))
    for t, remaining in sorted(pending.items()):
        for _ in range(remaining):
            candidates = free(t)
            if not candidates:
                break
            least_loaded(candidates, t).standby.add(t)
    _balance_standbys_within_tags(clients)


def _balance_standbys_within_tags(clients: list[ClientState]) -> None:
    """Kafka's balanceTasksOverThreads for standbys under ClientTagAwareStandbyTaskAssignor: move a standby from a
    more to a less loaded client (tasks per thread) while that lowers their skew, only between clients whose tags
    include all of the source's (isAllowedTaskMovement), never to a client holding a copy; warm-ups stay."""

    def should_move(src: ClientState, dst: ClientState) -> bool:
        skew = src.load(_assigned(src)) - dst.load(_assigned(dst))
        proposed = src.load(_assigned(src) - 1) - dst.load(_assigned(dst) + 1)
        return skew > 0 and 0 <= proposed < skew

    moved = True
    while moved:
        moved = False
        for src in clients:
            for dst in clients:
                if src is dst or any(dst.tags.get(k) != v for k, v in src.tags.items()):
                    continue
                for t in sorted(src.standby - src.warmup):
                    if not should_move(src, dst):
                        break
                    if t not in dst.active and t not in dst.standby:
                        src.standby.discard(t)
                        dst.standby.add(t)
                        moved = True
