"""Task idling (Kafka's max.task.idle.ms, KIP-353 and KIP-695): may a task with several input partitions process
now, or must it wait for records of an empty partition that the broker has, or may have?

Why: a task reads its partitions in timestamp order (the head with the smallest timestamp first). When one
partition has nothing buffered, the task cannot know whether that partition's next record is older than what the
others hold. A stream-table join would then join stream records before the table records they should see. Kafka
Streams' PartitionGroup.readyToProcess decides, per empty partition:

- fetched lag unknown (no fetch answer yet): wait;
- fetched lag > 0 (the broker has records we have not fetched yet): wait;
- fetched lag 0: wait until max.task.idle.ms has passed since the partition was first seen empty and caught up,
  then process anyway ("enforced processing", counted in enforced-processing-total).

max.task.idle.ms = -1 never waits. The default 0 waits only while an empty partition's lag is unknown or > 0.
A task with a single input partition never waits: an empty partition has nothing to order against.

Pure: no consumer, no clock. The runtime hands in the fetched lags (runtime/task_lags.py) and the wall-clock time.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from pystreams.errors import ConfigError

MAX_TASK_IDLE_MS_CONFIG = "max.task.idle.ms"
#: Kafka's StreamsConfig.MAX_TASK_IDLE_MS_DISABLED: never wait for an empty partition.
MAX_TASK_IDLE_MS_DISABLED = -1

TopicPartitionKey = tuple[str, int]
"""(topic, partition)."""


def parse_max_task_idle_ms(value: object) -> int:
    """max.task.idle.ms as an int: -1 (never wait) or a number of milliseconds >= 0."""
    if isinstance(value, bool):
        raise ConfigError(f"{MAX_TASK_IDLE_MS_CONFIG} must be a number of milliseconds (or -1), got {value!r}")
    try:
        ms = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ConfigError(f"{MAX_TASK_IDLE_MS_CONFIG} must be a number of milliseconds (or -1), "
                          f"got {value!r}") from None
    if isinstance(value, float) and ms != value:
        raise ConfigError(f"{MAX_TASK_IDLE_MS_CONFIG} must be a whole number of milliseconds, got {value!r}")
    if ms < MAX_TASK_IDLE_MS_DISABLED:
        raise ConfigError(f"{MAX_TASK_IDLE_MS_CONFIG} must be -1 (never wait for empty partitions) or >= 0, "
                          f"got {ms}")
    return ms


class TaskIdling:
    """The idling state of one task over its input partitions (Kafka's fetchedLags and idlePartitionDeadlines).

    Call update_lags() once per poll (Kafka: TaskManager.updateLags per runOnce), then ready_to_process() before
    processing, and processed(n) after: n records processed while the last decision was enforced count in
    enforced_processing_total (Kafka records the sensor once per record it processes so)."""

    __slots__ = ("_deadlines", "_lags", "enforced", "enforced_processing_total", "max_task_idle_ms", "partitions")

    def __init__(self, partitions: Iterable[TopicPartitionKey], max_task_idle_ms: object) -> None:
        self.partitions: tuple[TopicPartitionKey, ...] = tuple(dict.fromkeys(partitions))
        self.max_task_idle_ms = parse_max_task_idle_ms(max_task_idle_ms)
        self._lags: dict[TopicPartitionKey, int] = {}  # absent: unknown
        self._deadlines: dict[TopicPartitionKey, int] = {}
        self.enforced = False  # the last ready_to_process() said yes only because a deadline passed
        self.enforced_processing_total = 0

    @property
    def may_wait(self) -> bool:
        """False when this task never waits (idling disabled, or fewer than two input partitions): the runtime
        then skips the lag look-up and the check altogether."""
        return self.max_task_idle_ms != MAX_TASK_IDLE_MS_DISABLED and len(self.partitions) > 1

    def update_lags(self, lags: Mapping[TopicPartitionKey, int | None]) -> None:
        """The consumer's fetched lag per partition (None or missing: unknown, e.g. no fetch answer yet)."""
        if self.max_task_idle_ms == MAX_TASK_IDLE_MS_DISABLED:
            return
        for tp in self.partitions:
            lag = lags.get(tp)
            if lag is None or lag < 0:
                self._lags.pop(tp, None)
            else:
                self._lags[tp] = lag

    def lag(self, partition: TopicPartitionKey) -> int | None:
        """The fetched lag last given for a partition (None: unknown)."""
        return self._lags.get(partition)

    def ready_to_process(self, now_ms: int, buffered: Callable[[TopicPartitionKey], int]) -> bool:
        """Kafka's PartitionGroup.readyToProcess(wallClockTime); buffered(tp) = records buffered for tp."""
        self.enforced = False
        if self.max_task_idle_ms == MAX_TASK_IDLE_MS_DISABLED:
            return True
        deadlines = self._deadlines
        any_queued = False
        enforced = False
        for tp in self.partitions:
            if buffered(tp) > 0:
                deadlines.pop(tp, None)
                any_queued = True
                continue
            lag = self._lags.get(tp)
            if lag is None or lag > 0:  # unknown: wait for the fetch; > 0: wait for records the broker has
                deadlines.pop(tp, None)
                return False
            deadline = deadlines.get(tp)
            if deadline is None:  # caught up: the idle time starts now
                deadline = deadlines[tp] = now_ms + self.max_task_idle_ms
            if now_ms < deadline:
                return False
            enforced = True
        if not enforced:
            return True  # every partition has records buffered
        if not any_queued:
            return False  # nothing to process at all
        self.enforced = True
        return True

    def processed(self, records: int) -> None:
        """Count records processed after the last decision (enforced processing when it was enforced)."""
        if self.enforced and records > 0:
            self.enforced_processing_total += records

    def clear(self) -> None:
        """Forget lags and deadlines (Kafka's PartitionGroup.clear on a task's close or reassignment)."""
        self._lags.clear()
        self._deadlines.clear()
        self.enforced = False
