"""The stream thread's tasks across rebalances (Kafka's TaskManager): create the tasks a rebalance adds (RESTORING
first when they have state to restore), hand restored tasks over to processing, close the tasks of revoked or lost
partitions, and close tasks clean or dirty.

A mixin of StreamThread (stream_thread.py): the state stays on the thread (tasks, by_partition, the restorer) and
the rebalance callbacks (group/thread_rebalance.py) call these methods on it. Nothing here runs per record; the
restore step runs once per poll while tasks restore.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import delete_checkpoint
from pystreams.runtime.collector import task_corrupted
from pystreams.runtime.group.thread_rebalance import assign
from pystreams.runtime.task_migration import CLIENT_ERRORS, error_of, is_task_migration
from pystreams.runtime.tasks import ActiveTask, close_task, create_task, metadata_of
from pystreams.runtime.thread_commit import OffsetCommitTimeoutError

if TYPE_CHECKING:
    from pystreams.runtime.collector import KafkaRecordCollector
    from pystreams.runtime.kafka_streams import KafkaStreams
    from pystreams.runtime.processing import Backpressure
    from pystreams.runtime.restore import ChangelogReader, RestoringTask
    from pystreams.runtime.thread_metrics import ThreadMetrics
    from pystreams.runtime.topics import TopologyPlan
    from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.runtime")


class TaskManager:
    """Task creation, restore hand-over, revocation and closing for a StreamThread (mixed into it)."""

    if TYPE_CHECKING:  # the thread's fields (stream_thread.py) and its commit/recovery methods
        name: str
        streams: KafkaStreams
        config: Any
        plan: TopologyPlan
        topology: Any
        eos: bool
        tasks: dict[TaskId, ActiveTask]
        by_partition: dict[tuple[str, int], ActiveTask]
        metrics: ThreadMetrics
        rebalancing: bool
        assigned_once: bool
        _consumer: Consumer | None
        _collector: KafkaRecordCollector | None
        _cache: ThreadCache
        _restorer: ChangelogReader | None
        _backpressure: Backpressure | None
        _rejoin_pending: bool

        def _commit(self, final: bool = False) -> None: ...
        def _drop_uncommitted(self, err: KafkaError | None) -> None: ...

    # ------------------------------------------------------------------ assignment (group/thread_rebalance.py)
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition],
                   committed: Mapping[tuple[str, int], tuple[int, str]] | None = None) -> None:
        """The member's partitions after a rebalance: create the tasks new here; a stateful one restores first
        (RESTORING, between polls), the others run at once. `committed`: the (offset, metadata) the rebalance
        already fetched for the added partitions; the new tasks start their partition times from it."""
        self.rebalancing = True
        self.streams._thread_rebalancing()
        wanted: dict[TaskId, list[tuple[str, int]]] = {}
        for tp in partitions:
            sub = self.plan.subtopology_of(tp.topic)
            if sub is None:
                continue
            wanted.setdefault(TaskId(sub.id, tp.partition), []).append((tp.topic, tp.partition))
        self._create_tasks(wanted, committed)
        restorer = self._restorer
        assert restorer is not None
        log.info("%s assigned %d partitions, tasks %s%s", self.name, len(partitions),
                 sorted(str(t) for t in self.tasks),
                 f", restoring {sorted(str(t) for t in restorer.restoring)}" if restorer else "")
        self.assigned_once = True
        if not restorer:
            self.rebalancing = False
            self.streams._thread_running()

    def _create_tasks(self, wanted: dict[TaskId, list[tuple[str, int]]],
                      committed: Mapping[tuple[str, int], tuple[int, str]] | None = None) -> None:
        """Create the tasks of `wanted` not here yet (RESTORING when they have state to restore) and map the
        partitions of the running ones. A new task whose partitions are all in `committed` (OffsetFetch's
        (offset, metadata), read once by the caller) starts its partition times from that metadata; any other
        reads its own (create_task: one OffsetFetch)."""
        assert self._collector is not None
        restorer = self._restorer
        assert restorer is not None
        metadata = metadata_of(committed) if committed is not None else {}
        for task_id in sorted(wanted):
            if task_id in restorer:
                continue  # still restoring: it runs (and gets its partitions) once restored
            sub = next(s for s in self.plan.subtopologies if s.id == task_id.subtopology)
            at = self.tasks.get(task_id)
            if at is None:
                fetched = None
                if committed is not None and all(tp in committed for tp in wanted[task_id]):
                    fetched = {tp: metadata[tp] for tp in wanted[task_id] if tp in metadata}
                at = create_task(self.topology, task_id, sub, self.streams.app_configs, self._collector,
                                 self.config.state_dir, self.config.application_id, self.eos, self._cache,
                                 self.streams.global_state.stores if self.streams.global_state else None,
                                 metadata=fetched)
                if not restorer.add(at, sorted(wanted[task_id])):
                    continue  # RESTORING: restored between polls (_restore_step)
                self.tasks[task_id] = at
                if self.eos:  # nothing to restore: from now on the local state runs ahead of what is committed
                    delete_checkpoint(at.task_dir)
            for topic_partition in wanted[task_id]:
                self.by_partition[topic_partition] = at

    def _defer_assignment(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Of the added partitions (at their committed offsets), those to assign now; a restoring task's are kept
        with their offsets and assigned when it runs (Kafka: a RESTORING task's input partitions stay paused)."""
        restorer = self._restorer
        if not restorer:
            return partitions
        now = []
        for tp in partitions:
            rt = restorer.owner_of((tp.topic, tp.partition))
            if rt is None:
                now.append(tp)
            else:
                rt.offsets[(tp.topic, tp.partition)] = tp.offset
        return now

    # ------------------------------------------------------------------ restore hand-over (once per poll)
    def _restore_step(self) -> None:
        """One bounded round of restoring (RESTORING tasks) between polls; restored tasks start RUNNING at the
        offsets read before their restore. A short time budget while other tasks run, so they keep processing."""
        restorer, consumer = self._restorer, self._consumer
        assert restorer is not None and consumer is not None
        deadline = time.monotonic() + (0.05 if self.tasks else 0.25)
        ready: list[RestoringTask] = []
        while restorer:
            restored, done = restorer.restore(self.config.max_poll_records, max(0.0, deadline - time.monotonic()))
            self.metrics.restored += restored
            ready.extend(done)
            if time.monotonic() >= deadline:
                break
        if not ready:
            return
        start: list[TopicPartition] = []
        for rt in ready:
            at = rt.at
            self.tasks[at.id] = at
            for tp in rt.partitions:
                self.by_partition[tp] = at
            start.extend(TopicPartition(t, p, o) for (t, p), o in sorted(rt.offsets.items()))
            if self.eos:  # from now on the local state runs ahead of what is committed
                delete_checkpoint(at.task_dir)
            log.info("%s task %s restored %d records in %.1f s: running", self.name, at.id, at.restored_records,
                     time.monotonic() - restorer.started)
        if start:
            assign(self, start)
        if not restorer:
            self.rebalancing = False
            self.streams._thread_running()

    def _restore_progress(self, done: int, total: int) -> None:
        started = self._restorer.started if self._restorer is not None else self.metrics.started
        self.metrics.restore_total = total
        self.metrics.restore_rate = done / max(time.monotonic() - started, 1e-6)
        self.streams._restore_progress(self, done, total)

    # ------------------------------------------------------------------ revocation and loss
    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commit, then close the tasks of the revoked partitions (cooperative: only those); their state stays on
        disk with a checkpoint."""
        self.rebalancing = True
        self.streams._thread_rebalancing()
        gone = {(tp.topic, tp.partition) for tp in partitions}
        if self._restorer:  # restoring tasks close at once: nothing of theirs to commit
            self._close_restoring(True, {t for t, rt in self._restorer.restoring.items()
                                         if gone & set(rt.partitions)})
        revoked = {at.id for tp in gone if (at := self.by_partition.get(tp))}
        if not revoked:
            return
        try:
            self._commit(final=True)
        except (*CLIENT_ERRORS, OffsetCommitTimeoutError) as e:
            # a timed-out commit (default.api.timeout.ms of retriable errors): Kafka's handleRevocation closes the
            # tasks dirty and revives them from the committed offsets, as after a task migration
            timed_out = isinstance(e, OffsetCommitTimeoutError)
            if not (timed_out or is_task_migration(e, self.eos, self._collector) or task_corrupted(e)):
                raise
            err = None if timed_out else error_of(e, self._collector)
            log.warning("%s: commit on revocation failed (%s): closing tasks without committing", self.name,
                        e if timed_out else err)
            self._drop_uncommitted(err)
            # the partitions kept stay assigned but their tasks are gone; rejoining resumes them from the
            # committed offsets (thread_rebalance.py rejoins at once)
            self._rejoin_pending = True
            return
        self._close_tasks(clean=True, only=revoked)
        if self.eos:  # the final commit checkpointed every task; those kept run ahead of what is committed again
            for at in self.tasks.values():
                delete_checkpoint(at.task_dir)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions lost (session timeout): another member may own them already; close without committing."""
        log.warning("%s: partitions lost (this member was dropped from the group): closing %d tasks without "
                    "committing", self.name, len(self.tasks))
        self.rebalancing = True
        self._drop_uncommitted(None)

    # ------------------------------------------------------------------ closing tasks
    def _close_restoring(self, clean: bool, only: set[TaskId] | None = None) -> None:
        """Close RESTORING tasks: nothing to commit; clean under at_least_once keeps what was restored (a
        checkpoint of the restored offsets), dirty under EOS drops the checkpoint like any dirty close."""
        restorer = self._restorer
        if not restorer:
            return
        first: BaseException | None = None
        for task_id in [t for t in restorer.restoring if only is None or t in only]:
            rt = restorer.remove(task_id)
            try:
                if clean:
                    restorer.checkpoint(rt)
                close_task(rt.at, clean, self.eos)
            except BaseException as e:  # noqa: BLE001 - close every task, report the first failure
                first = first or e
            log.info("%s closed restoring task %s (%s)", self.name, task_id, "clean" if clean else "dirty")
        if first is not None and clean:
            raise first

    def _close_tasks(self, clean: bool, only: set[TaskId] | None = None) -> None:
        """Close the tasks (`only` those, else all; restoring ones too); the first failure is raised after all
        were closed when clean. Their partitions are forgotten, and resumed if back-pressure paused them."""
        self._close_restoring(clean, only)
        first: BaseException | None = None
        for task_id, at in list(self.tasks.items()):
            if only is not None and task_id not in only:
                continue
            try:
                close_task(at, clean, self.eos)
            except BaseException as e:  # noqa: BLE001 - close every task, report the first failure
                first = first or e
            del self.tasks[task_id]
        gone = [tp for tp, at in self.by_partition.items() if at.id not in self.tasks]
        for tp in gone:
            del self.by_partition[tp]
        if gone and self._backpressure is not None:  # no partition stays paused for a later owner
            self._backpressure.forget(gone)
        if first is not None and clean:
            raise first
