"""The tasks of a TopologyPlan as the assignor sees them: one task per (sub-topology, partition), holding that
partition of every source topic of the sub-topology (co-partitioned inputs stay together, like Kafka's
PartitionGrouper) and, when the sub-topology has logged stores, that partition of each changelog."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.codec import AssignmentError
from pystreams.runtime.assignment.info import TopicPartition
from pystreams.runtime.topics import TopologyPlan


@dataclass(frozen=True)
class TaskSpec:
    """A task's input partitions and changelog partitions; stateful when it has changelogs."""

    id: TaskId
    inputs: tuple[TopicPartition, ...]
    changelogs: tuple[TopicPartition, ...]

    @property
    def stateful(self) -> bool:
        return bool(self.changelogs)


def plan_tasks(plan: TopologyPlan, partition_counts: Mapping[str, int]) -> dict[TaskId, TaskSpec]:
    """Every task of the plan; partition counts come from the cluster metadata the leader read (falling back to
    the counts planned at start). AssignmentError when a source topic's count is unknown."""
    tasks: dict[TaskId, TaskSpec] = {}
    for sub in plan.subtopologies:
        topics = list(sub.source_topics)
        known = set(partition_counts) | set(plan.topic_partitions)
        topics += sorted(t for t in known if t not in topics and any(p.fullmatch(t) for p in sub.source_patterns))
        counts = {}
        for topic in topics:
            n = partition_counts.get(topic, plan.topic_partitions.get(topic))
            if n is None:
                raise AssignmentError(f"no partition count for source topic {topic} of sub-topology {sub.id} (Kafka's "
                                      "INCOMPLETE_SOURCE_TOPIC_METADATA): is the topic created?")
            counts[topic] = int(n)
        width = max(counts.values(), default=sub.partitions)
        for p in range(width):
            task = TaskId(sub.id, p)
            inputs = tuple((t, p) for t in topics if p < counts[t])
            changelogs = tuple((topic, p) for _, topic in sorted(sub.changelogs.items()))
            tasks[task] = TaskSpec(task, inputs, changelogs)
    return tasks
