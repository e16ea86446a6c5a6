"""place_standbys: num.standby.replicas per task, never on the owner, spread, the same answer everywhere."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime.standby_placement import instance_of, owners_from_group, place_standbys

pytestmark = pytest.mark.unit


def _owners(instances: list[str], tasks: int) -> dict[TaskId, str]:
    return {TaskId(0, p): instances[p % len(instances)] for p in range(tasks)}


@pytest.mark.parametrize("n_instances,replicas", [(2, 1), (3, 1), (3, 2), (4, 2), (5, 1), (3, 5)])
def test_each_task_gets_the_asked_replicas_on_other_instances(n_instances, replicas):
    instances = [f"app-{i}" for i in range(n_instances)]
    owners = _owners(instances, 12)
    placed = place_standbys(owners, instances, replicas)
    copies = Counter(t for tasks in placed.values() for t in tasks)
    assert all(copies[t] == min(replicas, n_instances - 1) for t in owners), copies
    for name, tasks in placed.items():
        assert not any(owners[t] == name for t in tasks), (name, tasks)


def test_three_instances_one_replica_keeps_a_third_not_two_thirds():
    instances = ["a", "b", "c"]
    placed = place_standbys(_owners(instances, 6), instances, 1)
    assert sorted(len(v) for v in placed.values()) == [2, 2, 2]  # spread evenly, 6 standbys in all (not 12)


def test_one_owner_spreads_its_tasks_over_all_others():
    placed = place_standbys({TaskId(0, p): "a" for p in range(4)}, ["a", "b", "c"], 1)
    assert placed["a"] == set() and len(placed["b"]) == 2 and len(placed["c"]) == 2


def test_deterministic_whatever_the_order_members_are_listed_in():
    owners = _owners(["x", "y", "z"], 9)
    assert place_standbys(owners, ["z", "x", "y"], 1) == place_standbys(owners, ["y", "z", "x", "x"], 1)


def test_no_replicas_or_single_instance_means_no_standbys():
    assert place_standbys(_owners(["a"], 3), ["a"], 1) == {"a": set()}
    assert all(not v for v in place_standbys(_owners(["a", "b"], 3), ["a", "b"], 0).values())


def test_instance_of_strips_the_thread_suffix():
    assert instance_of("wc-1a2b-StreamThread-2-consumer@host:1") == "wc-1a2b"
    assert instance_of("plain-client") == "plain-client"


def _member(client_id, *tps):
    parts = [SimpleNamespace(topic=t, partition=p) for t, p in tps]
    return SimpleNamespace(client_id=client_id, assignment=SimpleNamespace(topic_partitions=parts))


def test_owners_from_a_stable_group_description():
    desc = SimpleNamespace(state=SimpleNamespace(name="STABLE"), members=[
        _member("app-a-StreamThread-1-consumer", ("in", 0), ("in", 1)),
        _member("app-b-StreamThread-1-consumer", ("in", 2), ("other", 0))])
    task_of = lambda t, p: TaskId(0, p) if t == "in" else None  # noqa: E731
    owners, instances = owners_from_group(desc, task_of)
    assert owners == {TaskId(0, 0): "app-a", TaskId(0, 1): "app-a", TaskId(0, 2): "app-b"}
    assert sorted(instances) == ["app-a", "app-b"]


def test_a_group_in_rebalance_is_not_used():
    desc = SimpleNamespace(state=SimpleNamespace(name="PREPARING_REBALANCE"), members=[])
    assert owners_from_group(desc, lambda t, p: None) is None
