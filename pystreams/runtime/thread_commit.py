"""The stream thread's commit and shutdown (Kafka's TaskManager.commit and shutdown): task commits (caches flushed
-> changelog records produced), producer flush, then the consumed offsets (at_least_once) or the transaction with
the offsets (exactly_once_v2), checkpoints; and the final close of tasks and clients when the thread stops. Under
both guarantees each offset carries Kafka Streams' metadata (TopicPartitionMetadata: the partition time), which a
task reads back when it is created (tasks.create_task). A retriable OffsetCommit error (an internal topic deleted
while the application runs: UNKNOWN_TOPIC_OR_PARTITION) is retried as Kafka's commitSync, then bounded by
task.timeout.ms as Kafka's TaskManager.commit, instead of failing the thread. Under exactly_once_v2 offsets the
producer could not commit within max.block.ms (a deleted input topic) corrupt the tasks, as in Kafka: abort, revive
them in place, rejoin.

A mixin of StreamThread (stream_thread.py), called once per commit.interval.ms, never per record.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from pystreams.broker.protocol import ErrorCode
from pystreams.errors import PystreamsError
from pystreams.processor.internals import StreamsException
from pystreams.processor.task_id import TaskId
from pystreams.runtime.group.errors import GroupError, RebalanceInProgressError
from pystreams.runtime.offset_metadata import encode as encode_offset_metadata
from pystreams.runtime.streams_producer import (
    abandon_collector,
    abort_transaction,
    call_bounded,
    commit_transaction,
    first_ms,
    max_block_s,
)
from pystreams.runtime.task_migration import offsets_timed_out
from pystreams.runtime.tasks import ActiveTask, checkpoint_task, revive_corrupted

if TYPE_CHECKING:
    from pystreams.runtime.collector import KafkaRecordCollector
    from pystreams.runtime.kafka_streams import KafkaStreams
    from pystreams.runtime.repartition_purge import RepartitionPurger
    from pystreams.runtime.thread_metrics import ThreadMetrics

log = logging.getLogger("pystreams.runtime")

#: OffsetCommit errors Kafka's consumer retries in commitSync until default.api.timeout.ms (ConsumerCoordinator's
#: OffsetCommitResponseHandler: UNKNOWN_TOPIC_OR_PARTITION, e.g. an internal topic deleted while the application
#: runs, "just retry"; REQUEST_TIMED_OUT after finding the coordinator again). The coordinator errors are retried
#: by the group client itself.
RETRIABLE_COMMIT_CODES = frozenset({ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.REQUEST_TIMED_OUT})
#: Kafka's retry.backoff.ms and retry.backoff.max.ms defaults: the commit retries back off exponentially between them
RETRY_BACKOFF_S, RETRY_BACKOFF_MAX_S = 0.1, 1.0
#: how often a commit's backoff looks whether a close(timeout) asked the thread to stop
SHUTDOWN_CHECK_S = 0.02
#: what a closing thread keeps of its close(timeout) for closing its tasks and clients after a commit gives up
CLOSE_MARGIN_S = 1.0


class OffsetCommitTimeoutError(PystreamsError):
    """Kafka's TimeoutException from KafkaConsumer.commitSync: a retriable OffsetCommit error lasted
    default.api.timeout.ms. The tasks stay as they are; their offsets are committed again at the next commit, and
    a task that makes no progress for task.timeout.ms fails the thread."""


def default_api_timeout_s(config: Any) -> float:
    """The main consumer's default.api.timeout.ms (main.consumer., consumer., then unprefixed; Kafka's 60000) in
    seconds: how long a commit retries a retriable error."""
    keys = ("main.consumer.default.api.timeout.ms", "consumer.default.api.timeout.ms", "default.api.timeout.ms")
    return max(0.0, first_ms(config, keys, 60_000) / 1000)


def _offset_metadata(at: ActiveTask, topic: str, partition: int) -> str:
    """Kafka Streams' committed-offset metadata (the partition time and the task's ProcessorMetadata, empty for most
    tasks); empty for a task without partition times."""
    task = at.task
    partition_time = getattr(task, "partition_time", None)
    if partition_time is None:
        return ""
    return encode_offset_metadata(partition_time(topic, partition), getattr(task, "processor_metadata", None))


class ThreadCommit:
    """Commit, transaction begin/abort and the final close for a StreamThread (mixed into it)."""

    if TYPE_CHECKING:  # the thread's fields (stream_thread.py) and its task-manager methods
        name: str
        running: bool
        close_deadline: float | None  # monotonic time by which close(timeout) wants the thread stopped
        streams: KafkaStreams
        config: Any
        eos: bool
        error: BaseException | None
        tasks: dict[TaskId, ActiveTask]
        metrics: ThreadMetrics
        leave_group_on_close: bool
        _consumer: Consumer | None
        _restore_consumer: Consumer | None
        _collector: KafkaRecordCollector | None
        _in_transaction: bool
        _group: Any
        _standby: Any
        _purger: RepartitionPurger

        def _close_tasks(self, clean: bool, only: set[TaskId] | None = None) -> None: ...

    def _begin(self) -> None:
        assert self._collector is not None
        self._collector.producer.begin_transaction()
        self._in_transaction = True

    def _commit(self, final: bool = False) -> None:
        """Task commits, producer flush, offsets (in the transaction under EOS), checkpoints (at_least_once)."""
        consumer, collector = self._consumer, self._collector
        assert consumer is not None and collector is not None
        started = time.monotonic()
        if self.eos and not self._in_transaction:
            self._begin()
        offsets: list[TopicPartition] = []
        changed: list[ActiveTask] = []
        for at in self.tasks.values():
            at.task.commit()
            task_offsets = at.task.committable_offsets()
            if task_offsets != at.committed_offsets or at.task.metrics.processed != at.committed_processed:
                changed.append(at)
                offsets.extend(TopicPartition(t, p, o, metadata=_offset_metadata(at, t, p))
                               for (t, p), o in task_offsets.items() if at.committed_offsets.get((t, p)) != o)
        if self.eos:
            # both calls bounded by max.block.ms like Kafka's producer: librdkafka may never return (#5456)
            block_s = max_block_s(getattr(self.streams, "config", None))
            if offsets:
                # our member id and generation, so the broker fences a zombie by generation (KIP-447)
                group_metadata = self._group.group_metadata()
                try:
                    call_bounded(lambda: collector.producer.send_offsets_to_transaction(offsets, group_metadata,
                                                                                        block_s),
                                 block_s + 1, "send_offsets_to_transaction")
                except KafkaException as e:
                    if final or not offsets_timed_out(e):
                        raise
                    self._revive_after_offsets_timeout(e)
                    return
            commit_transaction(collector, block_s=block_s)
            self._in_transaction = False
            collector.check()
        else:
            collector.flush_producer()
            if offsets:
                # with Kafka Streams' offset metadata (partition time), as the EOS path sends it
                metadata = {(tp.topic, tp.partition): tp.metadata for tp in offsets if tp.metadata}
                try:  # OffsetCommit as our member and generation
                    self._commit_sync({(tp.topic, tp.partition): tp.offset for tp in offsets}, metadata)
                except RebalanceInProgressError as e:  # like Kafka Streams: keep the tasks, commit after the rejoin
                    log.info("%s: commit skipped (%s); it is retried after the rebalance", self.name, e)
                    return
                except OffsetCommitTimeoutError as e:
                    if final:  # revocation and close handle it (Kafka: close dirty; the offsets stay uncommitted)
                        raise
                    self._commit_timed_out(changed, e)
                    return
        for at in changed:
            at.committed_offsets = at.task.committable_offsets()
            at.committed_processed = at.task.metrics.processed
            at.timeout_deadline = None  # Kafka's clearTaskTimeout: the task made progress
        if final or not self.eos:  # under EOS the checkpoint is written on close only, like Kafka
            for at in (self.tasks.values() if final else changed):
                checkpoint_task(at, consumer, collector, force=final, eos=self.eos)
        self.metrics.commits += 1
        self.metrics.last_commit_ms = (time.monotonic() - started) * 1000
        self._purger.maybe_purge(self.streams.admin, (at.committed_offsets for at in self.tasks.values()))

    def _revive_after_offsets_timeout(self, error: KafkaException) -> None:
        """Kafka's handling of an exactly_once_v2 commit that timed out (TaskExecutor: TimeoutException ->
        TaskCorruptedException; StreamThread: TaskManager.handleCorruption, then enforceRebalance): the transaction is
        aborted, every task is closed dirty and revived in place from its committed offsets (its state restored from
        the changelog, as after any dirty close under EOS), and the group is rejoined, where the leader creates a
        deleted internal topic again. The tasks stay this member's: not a task migration (which gives every partition
        up first). A producer that cannot abort: the migration path replaces it."""
        tasks = sorted(str(t) for t in self.tasks)
        if not self._abort_transaction():
            raise error
        log.warning("%s: committing tasks %s failed: %s. The transaction is aborted and the tasks are revived from "
                    "their committed offsets (task corrupted, as Kafka Streams); rejoining the group", self.name,
                    tasks, error)
        revive_corrupted(self)
        self._group.request_rejoin(f"tasks {tasks} corrupted: their offsets could not be committed ({error})")

    def _commit_sync(self, offsets: dict[tuple[str, int], int], metadata: dict[tuple[str, int], str]) -> None:
        """Kafka's KafkaConsumer.commitSync: OffsetCommit, a retriable error (RETRIABLE_COMMIT_CODES) retried with
        backoff until default.api.timeout.ms, then OffsetCommitTimeoutError. The other errors are raised as they
        come (fenced, rebalance in progress, ...). An unknown topic also asks the member to rejoin: the member's
        metadata is stale (Kafka's consumer updates its metadata after such an answer and rejoins when a subscribed
        topic is gone), and the leader re-creates a missing internal topic in that rebalance."""
        timeout_s = default_api_timeout_s(getattr(self, "config", None))
        deadline = time.monotonic() + timeout_s
        backoff, asked_rejoin = RETRY_BACKOFF_S, False
        while True:
            try:
                if metadata:
                    self._group.commit(offsets, metadata)
                else:
                    self._group.commit(offsets)
                return
            except GroupError as e:
                if e.code not in RETRIABLE_COMMIT_CODES:
                    raise
                if e.code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION and not asked_rejoin:
                    asked_rejoin = True
                    self._group.request_rejoin(f"committing offsets: {e}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise OffsetCommitTimeoutError(
                        f"Timeout of {timeout_s * 1000:.0f}ms expired before successfully committing offsets "
                        f"{dict(sorted(offsets.items()))}: {e}") from e
                if self._closing_by() <= time.monotonic():
                    raise self._stopped_retrying(offsets, e) from e
                log.info("%s: %s; retrying the commit for up to %.1f s more (default.api.timeout.ms)", self.name, e,
                         remaining)
                if not self._back_off(min(backoff, remaining)):
                    raise self._stopped_retrying(offsets, e) from e
                backoff = min(backoff * 2, RETRY_BACKOFF_MAX_S)

    def _closing_by(self) -> float:
        """When a commit's retries must stop because the thread is being closed: close(timeout) set close_deadline,
        and the tasks and clients still have to be closed after the commit gives up (CLOSE_MARGIN_S). Infinity while
        the thread runs or when the close waits without a timeout (then default.api.timeout.ms bounds them)."""
        close_deadline = getattr(self, "close_deadline", None)
        if close_deadline is None or getattr(self, "running", True):
            return float("inf")
        return float(close_deadline) - CLOSE_MARGIN_S

    def _stopped_retrying(self, offsets: dict[tuple[str, int], int], error: GroupError) -> OffsetCommitTimeoutError:
        """close(timeout) while a commit is retried: no more tries, so the close is not held up for up to
        default.api.timeout.ms; the tasks are closed without these offsets (processed again after a restart)."""
        log.warning("%s: the thread is being closed: not retrying the commit of offsets %s any more (%s)", self.name,
                    dict(sorted(offsets.items())), error)
        return OffsetCommitTimeoutError(f"Committing offsets {dict(sorted(offsets.items()))} failed ({error}) and was "
                                        "not retried: the stream thread is being closed (close(timeout))")

    def _back_off(self, seconds: float) -> bool:
        """Wait `seconds` between commit tries, in short steps so a close(timeout) meanwhile ends the wait in time;
        False when the close's deadline came first."""
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if now >= self._closing_by():
                return False
            if now >= end:
                return True
            time.sleep(min(end - now, SHUTDOWN_CHECK_S))

    def _commit_timed_out(self, tasks: list[ActiveTask], error: OffsetCommitTimeoutError) -> None:
        """Kafka's TaskManager.commit on a commit TimeoutException (maybeInitTaskTimeoutOrThrow per task with offsets
        to commit): the first timeout starts each task's task.timeout.ms deadline and the thread goes on (the next
        commit sends the offsets again); one past the deadline fails the thread. task.timeout.ms=0 fails it at the
        second timeout in a row, as Kafka's."""
        now = time.monotonic()
        task_timeout_s = int(getattr(getattr(self, "config", None), "task_timeout_ms", 300_000)) / 1000
        for at in tasks:
            deadline = getattr(at, "timeout_deadline", None)
            if deadline is None:
                at.timeout_deadline = now + task_timeout_s
            elif now > deadline:
                raise StreamsException(
                    f"Task {at.id} did not make progress within {(now - deadline + task_timeout_s) * 1000:.0f} ms. "
                    "Adjust `task.timeout.ms` if needed.") from error
        log.warning("%s: committing tasks %s failed (%s); they keep running and commit again at the next commit, "
                    "until task.timeout.ms", self.name, sorted(str(at.id) for at in tasks), error)

    def _abort_transaction(self) -> bool:
        """Abort the open transaction (if any); False when the producer could not abort (it must be replaced)."""
        ok = True
        if getattr(self._collector, "abandoned", False):  # blocked in librdkafka: never called again
            self._in_transaction = False
            return False
        if self.eos and self._in_transaction and self._collector is not None:
            ok = abort_transaction(self._collector)
            self._in_transaction = False
        return ok

    def _close(self, clean: bool) -> None:
        """Clean: final commit + checkpoints, leave the group. Dirty: abort, close tasks without committing.

        A final commit that fails (e.g. production.exception.handler answered RETRY to the last flush's send
        failure: TaskCorruptedException) closes the tasks dirty, without a checkpoint, and the thread still shuts
        down cleanly: it is logged, not a thread error, as Kafka's TaskManager.shutdown closes the tasks of a
        failed commit dirty and StreamThread.completeShutdown logs what shutdown threw. Nothing is lost: the
        offsets were not committed, so the next start processes those records again."""
        idle_flush = getattr(self, "_idle_flush", None)
        if idle_flush is not None:
            log.info("%s: %s", self.name, idle_flush.summary())
        try:
            if clean and self.tasks:
                self._commit(final=True)
        except BaseException as e:  # noqa: BLE001 - the thread stops either way
            log.error("%s: final commit failed, closing tasks %s without committing (their records are processed "
                      "again from the committed offsets on the next start): %s", self.name,
                      sorted(str(t) for t in self.tasks), e)
            clean = False
        if not clean:
            self._abort_transaction()
        try:
            self._close_tasks(clean)
        except BaseException as e:  # noqa: BLE001
            log.error("%s: closing tasks failed: %s", self.name, e)
        if self._standby is not None:
            self._standby.close()
        if self._group is not None:
            try:
                # a socket shut by wakeup() is reopened (group/client.py _conn)
                self._group.close(leave=self.leave_group_on_close)
            except Exception as e:  # noqa: BLE001 - the session timeout removes us otherwise
                log.warning("%s: leaving the group: %s", self.name, e)
        for client in (self._consumer, self._restore_consumer):
            if client is not None:
                try:
                    client.close()
                except Exception as e:  # noqa: BLE001
                    log.warning("%s: consumer close: %s", self.name, e)
        if getattr(self._collector, "abandoned", False):
            abandon_collector(self._collector)  # blocked in librdkafka: closed from a daemon thread
        elif self._collector is not None:
            try:
                self._collector.close()
            except Exception as e:  # noqa: BLE001
                log.warning("%s: producer close: %s", self.name, e)
        # drop the clients now: librdkafka instances live (and reconnect) until the last reference goes
        self._consumer = self._restore_consumer = None
        self._collector = None
