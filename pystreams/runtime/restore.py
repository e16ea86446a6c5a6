"""Changelog restore between polls (Kafka's StoreChangelogReader / state updater): tasks in RESTORING state.

A new active task is registered here after create_task() (dir locked, wiped under EOS without a checkpoint, stores
open). The stream thread calls restore() once per loop iteration: one bounded batch of changelog records goes
into the restoring tasks' stores, while its running tasks keep processing and its group member keeps polling. A
task is ready (to be moved to RUNNING, its input partitions assigned at the committed offsets read before the
restore) once every changelog partition reached the end offset read when it was registered."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from pystreams.errors import StateStoreError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.offset_sums import (
    register_local_task,
    unregister_local_task,
)
from pystreams.runtime.checkpoint import read_checkpoint, write_checkpoint
from pystreams.runtime.tasks import ActiveTask
from pystreams.runtime.watermarks import watermarks

log = logging.getLogger("pystreams.runtime")

Partition = tuple[str, int]


class _Changelog:
    """One changelog partition being restored: its store, the end offset to reach, the last offset restored."""

    __slots__ = ("end", "position", "store", "task")

    def __init__(self, task: ActiveTask, store: str, end: int, position: int) -> None:
        self.task = task
        self.store = store
        self.end = end  # end offset read at registration: restored when the consumer's position reaches it
        self.position = position  # next offset to restore


class RestoringTask:
    """A task whose stores are not yet at their changelog end offsets, and what it needs to start running."""

    def __init__(self, at: ActiveTask, partitions: list[Partition]) -> None:
        self.at = at
        self.partitions = partitions  # its input partitions
        self.offsets: dict[Partition, int] = {}  # input partition -> start offset (read BEFORE the restore, ADR 0004)
        self.changelogs: dict[Partition, _Changelog] = {}
        self.restored_from: dict[Partition, int] = {}  # changelog partition -> checkpointed offset (-1: none)

    def restored_offsets(self) -> dict[Partition, int]:
        """Changelog partition -> offset of the last record in the stores (for a checkpoint / offset sums)."""
        out = dict(self.restored_from)
        for tp, cl in self.changelogs.items():
            out[tp] = cl.position - 1
        return {tp: o for tp, o in out.items() if o >= 0}


class ChangelogReader:
    """Restores registered tasks with one assign-only consumer, a bounded batch per call (on the stream thread)."""

    def __init__(self, consumer: Any, eos: bool, progress: Callable[[int, int], None] | None = None) -> None:
        self.consumer = consumer
        self.eos = eos
        self._progress = progress
        self.restoring: dict[TaskId, RestoringTask] = {}
        self._by_changelog: dict[Partition, _Changelog] = {}
        self.done = 0  # records restored since restoring last started from idle (progress reporting)
        self.total = 0  # records to restore since then
        self.started = time.monotonic()

    def __bool__(self) -> bool:
        return bool(self.restoring)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.restoring

    # ------------------------------------------------------------------ registration
    def add(self, at: ActiveTask, partitions: list[Partition]) -> bool:
        """Register a created task; True when it has nothing to restore (it can run at once)."""
        if not self.restoring:
            self.done = self.total = 0
            self.started = time.monotonic()
        rt = RestoringTask(at, partitions)
        checkpoint = read_checkpoint(at.task_dir)
        if not checkpoint and not self.eos:  # fall back to the offset RocksDB keeps with its data
            stored = at.task.checkpointed_offsets()
            checkpoint = {(topic, at.id.partition): stored[store]
                          for store, topic in at.task.changelog_topics().items() if store in stored}
        starts: list[TopicPartition] = []
        for tp, store in at.changelog_partitions().items():
            low, high = watermarks(self.consumer, TopicPartition(*tp))
            persistent = tp in at.persistent_changelogs
            known = checkpoint.get(tp) if persistent else None
            if persistent:
                at.changelog_next[tp] = high
                at.checkpointed[tp] = known if known is not None else -1
                forget = getattr(at.collector, "forget", None)
                if forget is not None:  # sends of an earlier owner on this thread are in `high` (or undercounted)
                    forget(*tp)
                rt.restored_from[tp] = known if known is not None else -1
            start = max(known + 1 if known is not None else low, low)
            if start >= high:
                continue
            cl = _Changelog(at, store, high, start)
            rt.changelogs[tp] = self._by_changelog[tp] = cl
            starts.append(TopicPartition(tp[0], tp[1], start if known is not None else OFFSET_BEGINNING))
            self.total += high - start
        if not rt.changelogs:
            return True
        self.restoring[at.id] = rt
        register_local_task(at.task_dir, rt.restored_offsets)
        self.consumer.incremental_assign(starts)
        log.info("task %s restoring %d changelog partitions (%d records)", at.id, len(starts),
                 sum(cl.end - cl.position for cl in rt.changelogs.values()))
        return False

    def remove(self, task_id: TaskId) -> RestoringTask:
        """Stop restoring a task (revoked, lost or closing): its changelog partitions leave the consumer."""
        rt = self.restoring.pop(task_id)
        self._release(rt)
        return rt

    def _release(self, rt: RestoringTask) -> None:
        unregister_local_task(rt.at.task_dir)
        gone = [tp for tp in rt.changelogs if self._by_changelog.get(tp) is not None
                and self._by_changelog[tp].task is rt.at]
        for tp in gone:
            del self._by_changelog[tp]
        if gone:
            try:
                self.consumer.incremental_unassign([TopicPartition(*tp) for tp in gone])
            except Exception as e:  # noqa: BLE001 - partitions already gone: nothing to stop
                log.debug("restore consumer: unassign %s: %s", gone, e)

    def checkpoint(self, rt: RestoringTask) -> None:
        """at_least_once: write what a revoked restoring task restored, so the next owner (us, later) continues
        from there. Not under EOS (its stores may then not be trusted without a clean close: wiped instead)."""
        offsets = rt.restored_offsets()
        if self.eos or not offsets:
            return
        write_checkpoint(rt.at.task_dir, offsets)
        rt.at.task.checkpoint({store: offsets[tp] for tp, store in rt.at.persistent_changelogs.items()
                               if tp in offsets})

    # ------------------------------------------------------------------ restoring
    def restore(self, max_records: int, timeout: float) -> tuple[int, list[RestoringTask]]:
        """One restore-consumer batch of up to max_records into the stores; (records restored, tasks that
        reached their end offsets, removed from here)."""
        if not self._by_changelog:
            return 0, self._finish()
        batches: dict[Partition, list[Any]] = {}
        for m in self.consumer.consume(num_messages=max_records, timeout=timeout):
            err = m.error()
            tp = (str(m.topic()), int(m.partition() or 0))
            cl = self._by_changelog.get(tp)
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    if cl is not None:  # the end (under read_committed the last stable offset): restored
                        cl.position = max(cl.position, cl.end)
                    continue
                raise StateStoreError(f"restore of {tp} failed: {err}")
            if cl is None:  # a record of a partition removed meanwhile
                continue
            offset = int(m.offset() or 0)
            if offset >= cl.end:  # written after the end offset read at registration: not needed to start
                continue
            batches.setdefault(tp, []).append((m.key(), m.value(), m.timestamp()[1], offset))
        restored = 0
        for tp, records in batches.items():
            cl = self._by_changelog[tp]
            cl.task.task.restore(cl.store, records)
            cl.task.restored_records += len(records)
            cl.position = records[-1][3] + 1
            restored += len(records)
        pending = [tp for tp, cl in self._by_changelog.items() if cl.position < cl.end]
        if pending:  # transaction markers and compaction leave gaps: the consumer's position says where it is
            for tp_pos in self.consumer.position([TopicPartition(*tp) for tp in pending]):
                cl = self._by_changelog[(tp_pos.topic, tp_pos.partition)]
                if tp_pos.offset >= 0:
                    cl.position = max(cl.position, tp_pos.offset)
        self.done += restored
        if self._progress is not None and restored:
            self._progress(self.done, self.total)
        return restored, self._finish()

    def _finish(self) -> list[RestoringTask]:
        ready = [rt for rt in self.restoring.values() if all(cl.position >= cl.end for cl in rt.changelogs.values())]
        for rt in ready:
            del self.restoring[rt.at.id]
            self._release(rt)
        return ready

    def owner_of(self, partition: Partition) -> RestoringTask | None:
        """The restoring task that has this input partition, if any."""
        for rt in self.restoring.values():
            if partition in rt.partitions:
                return rt
        return None
