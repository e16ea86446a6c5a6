"""Tasks are balanced per stream thread through the real group protocol, on both brokers: client A with three
threads and client B with one share 4 stateful tasks 3/1, one task per thread (Kafka's HighAvailabilityTaskAssignor
balances tasks / capacity; before, the split was per client, 2/2, and A's third thread idled).

Uses the stand-in stream threads of test_assignment_group (real StreamsMember, SubscriptionInfo/AssignmentInfo as
JoinGroup/SyncGroup user data, the real assignor on the leader). 3/1 is the only balanced split, whichever client
forms the first round alone: a late joiner warms up first and the probing rebalances end at the same split."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from confluent_kafka import Producer

from pystreams.processor.task_id import TaskId
from pystreams.runtime import StreamsConfig
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan
from tests.integration.runtime.helpers import create_topics, unique
from tests.system.runtime.test_assignment_group import (
    PARTITIONS,
    RECORDS,
    StandInThread,
    _wait_for_final,
)

pytestmark = [pytest.mark.system]


def test_a_client_with_three_threads_gets_three_times_the_tasks(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("assign-capacity"), unique("in")
    changelog = f"{app_id}-counts-changelog"
    create_topics(bootstrap, PARTITIONS, source, changelog)
    producer = Producer({"bootstrap.servers": bootstrap})
    for p in range(PARTITIONS):  # state in every changelog: a client without it is not caught up
        for i in range(RECORDS):
            producer.produce(changelog, key=f"k{i}".encode(), value=b"1", partition=p)
    assert producer.flush(30) == 0
    del producer  # no reconnect logging after the broker stops
    plan = TopologyPlan(app_id, [SubtopologyPlan(0, ("src",), [source], [], PARTITIONS, {"counts": changelog})],
                        {source: PARTITIONS}, {}, {changelog: PARTITIONS})
    threads: list[StandInThread] = []

    def start(name: str, n_threads: int) -> None:
        config = StreamsConfig({"application.id": app_id, "bootstrap.servers": bootstrap,
                                "state.dir": str(tmp_path / name), "num.standby.replicas": 1,
                                "num.stream.threads": n_threads,
                                "acceptable.recovery.lag": 0, "probing.rebalance.interval.ms": 60_000,
                                "consumer.session.timeout.ms": 10000, "consumer.heartbeat.interval.ms": 500,
                                "pystreams.assignor": "streams"})
        client = SimpleNamespace(process_id=f"process-{name}", shutdown_requested=0)
        threads.extend(StandInThread(f"{name}-StreamThread-{i}", client, plan, config)
                       for i in range(1, n_threads + 1))

    try:
        start("A", 3)
        start("B", 1)
        _wait_for_final(threads)
        by_client: Counter[str] = Counter()
        standbys: Counter[str] = Counter()
        active_on: dict[TaskId, str] = {}
        for t in threads:
            client = t.name[0]
            by_client[client] += len(t.info.active_tasks)
            standbys[client] += len(t.info.standby_tasks)
            assert sorted(t.owned) == sorted(tp for tps in t.info.active_tasks.values() for tp in tps)
            for task in t.info.active_tasks:
                assert task not in active_on
                active_on[task] = client
        assert sorted(active_on) == [TaskId(0, p) for p in range(PARTITIONS)]
        assert by_client == {"A": 3, "B": 1}
        assert [len(t.info.active_tasks) for t in threads] == [1, 1, 1, 1]  # one task per thread
        assert standbys == {"A": 1, "B": 3}  # each task's standby on the other client
    finally:
        for t in threads:
            t.stop.set()
        for t in threads:
            t.loop.join(30)
