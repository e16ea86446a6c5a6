"""The Streams assignor through the real group protocol (the membership client's StreamsMember, SubscriptionInfo
and AssignmentInfo as JoinGroup/SyncGroup user data) on both brokers, with stand-in stream threads: two clients
(one with two threads) share the tasks and standbys as the assignor's rules say, a third client without state
gets a warm-up and a probing rebalance instead of tasks, and one client's SHUTDOWN_REQUESTED reaches every
member.

The first two clients need not meet in the first round: with group.initial.rebalance.delay.ms=0 a round can
complete with one client alone (seen when the other's JoinGroup came late under load). That client then runs
every task, and the one that joins next, without state, gets warm-ups and a probing rebalance, not tasks (the
state constraint, as Kafka's HighAvailabilityTaskAssignor): an intermediate state. The test waits for Kafka
Streams' final assignment instead (no revocation pending, no follow-up rebalance scheduled), letting the
stand-ins' standbys catch up and probing at once instead of after probing.rebalance.interval.ms."""
from __future__ import annotations

import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime import StreamsConfig
from pystreams.runtime.assignment import SHUTDOWN_REQUESTED
from pystreams.runtime.checkpoint import write_checkpoint
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = [pytest.mark.system]
PARTITIONS = 4
RECORDS = 5  # per changelog partition


class StandInThread:
    """What StreamsMember reads from a stream thread, and a loop polling it like the thread does."""

    def __init__(self, name: str, streams: Any, plan: TopologyPlan, config: StreamsConfig) -> None:
        from pystreams.runtime.group.streams_member import StreamsMember

        self.name, self.streams, self.plan, self.config = name, streams, plan, config
        self.tasks: dict[TaskId, Any] = {}
        self.standbys: frozenset[TaskId] = frozenset()
        self._standby = SimpleNamespace(running_standbys=lambda: self.standbys)
        self.owned: frozenset = frozenset()
        # (generation, AssignmentInfo) of its latest assignment, replaced in one assignment: the test thread never
        # sees one round's info under another round's generation
        self.round: tuple[int, Any] = (-1, None)
        self.first_generation = -1  # of its first assignment
        self.member = StreamsMember(self)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.loop = threading.Thread(target=self._run, daemon=True, name=name)
        self.loop.start()

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                got = self.member.poll()
                if got is not None:
                    rebalance, info = got
                    self.owned = rebalance.assigned
                    if info is not None:
                        self.round = (rebalance.generation_id, info)
                        if self.first_generation < 0:
                            self.first_generation = rebalance.generation_id
                        self.tasks = dict.fromkeys(info.active_tasks)
                        self.standbys = frozenset(info.standby_tasks)
                time.sleep(0.02)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.member.close()

    @property
    def generation(self) -> int:
        return self.round[0]

    @property
    def info(self) -> Any:
        return self.round[1]

    def catch_up_standbys(self) -> None:
        """What a standby (warm-up) writes once it has applied its whole changelog: a checkpoint at the last
        offset, so the next SubscriptionInfo reports the task caught up (lag 0)."""
        info = self.info
        for task, changelogs in (info.standby_tasks if info is not None else {}).items():
            task_dir = f"{self.config.state_dir}/{self.config.application_id}/{task}"
            write_checkpoint(task_dir, {(topic, p): RECORDS - 1 for topic, p in changelogs})


def _settled(threads: list[StandInThread]) -> tuple[int, list[Any]] | None:
    """(generation, every member's AssignmentInfo) when every member has its assignment of the same round, none is
    about to rejoin (no revocation pending) and every task runs somewhere; else None.
    The same round: the members get their SyncGroup answers of one round at about the same time but each in its own
    loop, so one may still hold the previous round's (a client joining: the newcomer's first assignment next to
    an old member's previous one, whose tasks it is giving up this round)."""
    rounds = [t.round for t in threads]  # each read once: a member may install the next round meanwhile
    if (any(info is None for _, info in rounds) or any(t.member.member.rejoin_needed for t in threads)
            or len({generation for generation, _ in rounds}) != 1
            or sum(len(info.active_tasks) for _, info in rounds) != PARTITIONS):
        return None
    return rounds[0][0], [info for _, info in rounds]


def _stable(threads: list[StandInThread]) -> bool:
    return _settled(threads) is not None


def _wait_for_final(threads: list[StandInThread], timeout: float = 60.0) -> int:
    """Wait for Kafka Streams' final assignment: a settled round (_settled: no revocation pending, every task
    assigned) without a follow-up rebalance. A settled round with warm-ups is not final: Kafka repeats the probing
    rebalance until the warm-ups have caught up and their tasks have moved; here the stand-ins' standbys catch up
    at once and one member rejoins in place of the probe (probing.rebalance.interval.ms is at least 60 s).
    Returns how many probing rebalances it took."""
    deadline = time.monotonic() + timeout
    probed: set[int] = set()
    while True:
        assert all(t.error is None for t in threads), [t.error for t in threads]
        settled = _settled(threads)
        if settled is not None:
            generation, infos = settled
            if all(info.followup_rebalance_ms == -1 for info in infos):
                return len(probed)
            if generation not in probed:  # once per round: until the probe's JoinGroup, the round looks settled
                probed.add(generation)
                for t in threads:
                    t.catch_up_standbys()
                threads[0].member.request_rejoin("probing rebalance (the stand-ins' warm-ups caught up)")
        assert time.monotonic() < deadline, [(t.name, t.generation, t.info) for t in threads]
        time.sleep(0.1)


def test_tasks_standbys_and_shutdown_through_the_group_protocol(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("assign-group"), unique("in")
    changelog = f"{app_id}-counts-changelog"
    create_topics(bootstrap, PARTITIONS, source, changelog)
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for p in range(PARTITIONS):  # some state in every task's changelog: a client without it is not caught up
        for i in range(RECORDS):
            producer.produce(changelog, key=f"k{i}".encode(), value=b"1", partition=p)
    assert producer.flush(30) == 0
    plan = TopologyPlan(app_id, [SubtopologyPlan(0, ("src",), [source], [], PARTITIONS, {"counts": changelog})],
                        {source: PARTITIONS}, {}, {changelog: PARTITIONS})
    threads: list[StandInThread] = []
    clients = {}

    def start(name: str, n_threads: int) -> None:
        config = StreamsConfig({"application.id": app_id, "bootstrap.servers": bootstrap,
                                "state.dir": str(tmp_path / name), "num.standby.replicas": 1,
                                "acceptable.recovery.lag": 0, "probing.rebalance.interval.ms": 60_000,
                                "consumer.session.timeout.ms": 10000, "consumer.heartbeat.interval.ms": 500,
                                "pystreams.assignor": "streams"})
        clients[name] = SimpleNamespace(process_id=f"process-{name}", shutdown_requested=0)
        threads.extend(StandInThread(f"{name}-StreamThread-{i}", clients[name], plan, config)
                       for i in range(1, n_threads + 1))

    try:
        start("A", 2)
        start("B", 1)
        probes = _wait_for_final(threads)
        if len({t.first_generation for t in threads}) == 1:  # both clients came cold into one round: balanced
            assert probes == 0, "no warm-ups when no client has state"
        by_client = Counter()
        standby_on: dict[TaskId, list[str]] = {}
        active_on: dict[TaskId, str] = {}
        for t in threads:
            client = t.name[0]
            by_client[client] += len(t.info.active_tasks)
            assert sorted(t.owned) == sorted(tp for tps in t.info.active_tasks.values() for tp in tps)
            for task in t.info.active_tasks:
                assert task not in active_on
                active_on[task] = client
            for task in t.info.standby_tasks:
                standby_on.setdefault(task, []).append(client)
        assert sorted(active_on) == [TaskId(0, p) for p in range(PARTITIONS)]
        # balanced per thread (A has 2 threads, B 1): 2/2 from a cold start or a round B formed alone,
        # 3/1 when A's threads formed the first round without B (sticky, within A's share of 8/3)
        assert by_client in ({"A": 2, "B": 2}, {"A": 3, "B": 1}), by_client
        a_loads = sorted(len(t.info.active_tasks) for t in threads if t.name.startswith("A"))
        assert a_loads[-1] - a_loads[0] <= 1 and a_loads[0] >= 1, a_loads
        assert {task: [c for c in "AB" if c != owner] for task, owner in active_on.items()} == standby_on
        start("C", 1)  # no local state: it warms up first, the others keep their tasks
        deadline = time.monotonic() + 60
        while not _stable(threads):
            assert all(t.error is None for t in threads), [t.error for t in threads]
            assert time.monotonic() < deadline, [(t.name, t.generation, t.info) for t in threads]
            time.sleep(0.1)
        c = threads[-1]
        assert c.info.active_tasks == {} and len(c.info.standby_tasks) >= 1
        assert all(t.info.followup_rebalance_ms == 60_000 for t in threads)
        assert {task: owner for t in threads for task in t.info.active_tasks for owner in t.name[0]} == active_on
        clients["B"].shutdown_requested = SHUTDOWN_REQUESTED  # B's uncaught-exception handler said so
        deadline = time.monotonic() + 60
        while not all(t.info.error_code == SHUTDOWN_REQUESTED for t in threads):
            assert all(t.error is None for t in threads), [t.error for t in threads]
            assert time.monotonic() < deadline, [(t.name, t.info.error_code) for t in threads]
            time.sleep(0.1)
        assert all(t.info.active_tasks == {} and t.owned == frozenset() for t in threads)
    finally:
        for t in threads:
            t.stop.set()
        for t in threads:
            t.loop.join(30)
