"""Where standby replicas go: a deterministic choice every instance computes alike from the group's membership.

librdkafka cannot run Kafka Streams' assignor, so standbys cannot ride in the assignment. Instead each instance
reads the consumer group's members and their assignments (AdminClient.describe_consumer_groups, the same answer
for every member once the group is Stable) and applies one pure rule, `place_standbys`:

- an instance is a KafkaStreams client: the member client.id up to "-StreamThread-" (all of a client's threads);
- the owner of a task is the instance whose member holds the task's partitions;
- the other instances are taken in ring order after the owner (instances sorted by name); the k-th task of an
  owner (its stateful tasks sorted) gets the next `replicas` of them starting k places further on, so one owner's
  tasks spread over all other instances and each task gets min(replicas, instances - 1) standbys, never on its
  owner, never twice on one instance (Kafka's rules; without its load balancing by warm state).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pystreams.processor.task_id import TaskId

THREAD_MARKER = "-StreamThread-"


def instance_of(client_id: str) -> str:
    """The KafkaStreams client a member belongs to (its consumer's client.id without the thread suffix)."""
    head, sep, _ = client_id.partition(THREAD_MARKER)
    return head if sep else client_id


def place_standbys(owners: Mapping[TaskId, str], instances: Iterable[str], replicas: int) -> dict[str, set[TaskId]]:
    """Standby tasks per instance: each task in `owners` (task -> owning instance) gets min(replicas, n - 1)
    standbys on instances other than its owner, spread in ring order."""
    ring = sorted(set(instances) | set(owners.values()))
    out: dict[str, set[TaskId]] = {name: set() for name in ring}
    if replicas <= 0 or len(ring) < 2:
        return out
    per_owner: dict[str, list[TaskId]] = {}
    for task_id in sorted(owners):
        per_owner.setdefault(owners[task_id], []).append(task_id)
    for owner, tasks in per_owner.items():
        start = ring.index(owner)
        others = [ring[(start + i) % len(ring)] for i in range(1, len(ring))]
        for k, task_id in enumerate(tasks):
            for j in range(min(replicas, len(others))):
                out[others[(k + j) % len(others)]].add(task_id)
    return out


def owners_from_group(description: Any, task_of: Any) -> tuple[dict[TaskId, str], list[str]] | None:
    """(task -> owning instance, all instances) from a ConsumerGroupDescription; None while it is not Stable
    (assignments in flux). `task_of(topic, partition)` maps a partition to its TaskId or None."""
    state = getattr(getattr(description, "state", None), "name", str(getattr(description, "state", "")))
    if "STABLE" not in state.upper():
        return None
    owners: dict[TaskId, str] = {}
    instances: list[str] = []
    for member in description.members:
        name = instance_of(member.client_id)
        instances.append(name)
        assignment = getattr(member, "assignment", None)
        for tp in (assignment.topic_partitions if assignment is not None else []):
            task_id = task_of(tp.topic, tp.partition)
            if task_id is not None:
                owners[task_id] = name
    return owners, instances
