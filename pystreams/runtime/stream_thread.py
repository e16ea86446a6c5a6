"""StreamThread: one consumer, one producer and the active tasks assigned to them (Kafka's StreamThread).

Loop: consume a batch, hand each partition's records to its task, process every task until its buffers are empty,
punctuate, and every commit.interval.ms commit: task commits (caches flushed -> changelog records produced),
producer flush, then the consumed offsets (at_least_once) or the transaction with the offsets (exactly_once_v2).

Assignment (docs/adr/0004-streams-assignor.md): the thread is one member of the group
through pystreams.runtime.group (Kafka Streams' assignor: co-partitioned tasks, sticky, state-aware, standbys,
cooperative); the consumer never subscribes, it is assign()ed what each rebalance adds at the committed offsets,
and only revoked or lost tasks are closed (runtime/group/thread_rebalance.py). A new stateful task is RESTORING
first (runtime/restore.py): each loop iteration restores a bounded batch of its changelogs while the running tasks
keep processing and the member keeps polling; it runs, its partitions assigned at the committed offsets read before
the restore, once its stores reached the changelog end offsets. The thread also refreshes records-lag itself
(thread_metrics.py), so no other thread ever calls its consumer.

Back-pressure: an input partition whose task queue holds more than buffered.records.per.partition records is paused
in the consumer and resumed once processing drained it (processing.Backpressure, one call per poll). A RETRY from
production.exception.handler is Kafka's TaskCorruptedException: the tasks are closed dirty and revived from the last
committed offsets (_handle_task_corrupted).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import delete_checkpoint
from pystreams.runtime.collector import KafkaRecordCollector, task_corrupted
from pystreams.runtime.config import thread_cache_bytes
from pystreams.runtime.group.errors import RebalanceInProgressError
from pystreams.runtime.group.membership import MemberState
from pystreams.runtime.group.thread_rebalance import assign, poll_group
from pystreams.runtime.processing import (
    BUFFERED_RECORDS_PER_PARTITION_CONFIG,
    Backpressure,
    hand_over,
    parse_buffered_records,
    poll_records,
    process_tasks,
)
from pystreams.runtime.repartition_purge import RepartitionPurger
from pystreams.runtime.restore import ChangelogReader, RestoringTask, restore_consumer_config
from pystreams.runtime.standby import StandbyManager
from pystreams.runtime.streams_producer import (
    abort_transaction,
    commit_transaction,
    open_collector,
    replace_collector,
)
from pystreams.runtime.task_migration import (
    CLIENT_ERRORS,
    error_of,
    is_task_migration,
    producer_unusable,
    raise_refused_record,
)
from pystreams.runtime.tasks import (
    ActiveTask,
    checkpoint_task,
    close_task,
    create_task,
    revive_corrupted,
)
from pystreams.runtime.thread_metrics import ThreadMetrics
from pystreams.runtime.topics import TopologyPlan
from pystreams.state.internals.cache import ThreadCache

if TYPE_CHECKING:
    from pystreams.runtime.kafka_streams import KafkaStreams

log = logging.getLogger("pystreams.runtime")

#: member states while a JoinGroup/SyncGroup round runs (the thread may be blocked in it)
_IN_JOIN = (MemberState.PREPARING_REBALANCE, MemberState.COMPLETING_REBALANCE)


# ThreadMetrics lives in thread_metrics.py; importable from here too
__all__ = ["StreamThread", "ThreadMetrics"]


class StreamThread(threading.Thread):
    """Runs tasks for one KafkaStreams client; errors go to the client's uncaught-exception handling."""

    _max_buffered = -1  # buffered.records.per.partition (-1 until read: no bound)
    #: input partitions paused while their task queue is full (processing.py), made with the consumer
    _backpressure: Backpressure | None = None
    revived = 0  # times the tasks were closed dirty and revived after a RETRY (at_least_once)
    #: KafkaStreams.close(CloseOptions(...REMAIN_IN_GROUP)) sets False: close without a LeaveGroup
    leave_group_on_close = True
    _cache_resize: int | None = None  # a new record-cache budget for the loop to apply (resize_cache)
    _resume_signal: threading.Event | None = None  # set by signal_resume(): a paused loop wakes up at once

    def __init__(self, streams: KafkaStreams, index: int) -> None:
        super().__init__(name=f"{streams.client_id}-StreamThread-{index}", daemon=True)
        self.streams = streams
        self.index = index
        self.config = streams.config
        plan = streams.plan
        assert plan is not None, "KafkaStreams.start() plans the topology before starting threads"
        self.plan: TopologyPlan = plan
        self.topology = streams.topology
        self.eos = self.config.eos
        self.tasks: dict[TaskId, ActiveTask] = {}
        self.by_partition: dict[tuple[str, int], ActiveTask] = {}
        self.metrics = ThreadMetrics()
        self.running = True
        self.assigned_once = False
        self.rebalancing = False
        self.error: BaseException | None = None
        self._consumer: Consumer | None = None
        self._restore_consumer: Consumer | None = None
        self._collector: KafkaRecordCollector | None = None
        self._cache = ThreadCache(thread_cache_bytes(self.config, bool(streams.topology.global_subtopology_nodes())))
        self._in_transaction = False
        # the Streams assignor places standbys and warm-up replicas per member, for any num.stream.threads
        self._standby: Any = StandbyManager(self)
        self._restorer: ChangelogReader | None = None  # restores RESTORING tasks between polls
        self._group: Any = None  # StreamsMember: our own group membership (runtime/group)
        self._purger = RepartitionPurger(plan.repartition_topics, self.config.repartition_purge_interval_ms)
        self._rejoin_pending = False  # tasks were dropped inside a rebalance callback: rejoin from the loop
        self._woken = False  # shutdown() woke the member out of a join (its sockets were shut)
        # buffered.records.per.partition (a ConfigError at start() when invalid)
        self._max_buffered = parse_buffered_records(self.config.get(BUFFERED_RECORDS_PER_PARTITION_CONFIG))
        self._resume_signal = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def shutdown(self) -> None:
        """Ask the loop to stop; it commits and closes cleanly (run() returns afterwards). A JoinGroup/SyncGroup
        the thread is blocked in ends now (the coordinator may hold a JoinGroup up to max.poll.interval.ms), so
        close(timeout) need not wait for it; the loop then sees running=False and leaves the group."""
        self.running = False
        group = self._group
        member = getattr(group, "member", None)
        if member is not None and not self._woken and member.state in _IN_JOIN:
            # only while a join/sync round runs: wakeup() also shuts the member's idle sockets, so a later
            # LeaveGroup would fail and a restarted instance wait session.timeout.ms for the old member
            self._woken = True
            try:
                group.wakeup()
            except Exception as e:  # noqa: BLE001 - only a shortcut: the loop still stops after the join
                log.warning("%s: waking the group member up: %s", self.name, e)

    def signal_resume(self) -> None:
        """KafkaStreams.resume() was called: a loop waiting while paused goes on now (Kafka's signalResume)."""
        signal = self._resume_signal
        if signal is not None:
            signal.set()

    def resize_cache(self, max_bytes: int) -> None:
        """A new record-cache budget (threads added or removed): applied by the thread itself at the top of its
        next loop iteration, evicting (flushing dirty entries) down to it, as Kafka's StreamThread.resizeCache."""
        self._cache_resize = max_bytes

    def _apply_cache_resize(self) -> None:
        size, self._cache_resize = self._cache_resize, None
        if size is None:
            return
        cache = self._cache
        cache.max_bytes = size
        for named in list(cache.caches.values()):
            if cache.total <= size:
                break
            cache.maybe_evict(named)

    def request_rejoin(self) -> None:
        """Rejoin the group at the next poll (to send a changed SubscriptionInfo, e.g. a shutdown request)."""
        if self._group is not None:
            self._group.request_rejoin("requested by the client")

    def run(self) -> None:
        clean = False
        try:
            self._open_clients()
            self._loop()
            clean = True
        except BaseException as e:
            self.error = e
            log.error("stream thread %s failed: %s", self.name, e, exc_info=True)
        finally:
            self._close(clean)
        if self.error is not None:
            self.streams._thread_failed(self, self.error)

    def _transactional_id(self) -> str | None:
        """One transactional producer per thread (exactly_once_v2), stable across restarts of this process id."""
        cfg = self.config
        return f"{cfg.application_id}-{self.streams.process_id}-{self.index}" if self.eos else None

    def _open_clients(self) -> None:
        cfg = self.config
        client = f"{self.name}"
        self._collector = open_collector(cfg, f"{client}-producer", self._transactional_id())
        self._restore_consumer = Consumer(restore_consumer_config(cfg, f"{client}-restore-consumer"))
        from pystreams.runtime.group.streams_member import StreamsMember

        # docs/adr/0004: we run the group; the consumer never subscribes, it is only assign()ed
        self._consumer = Consumer(cfg.main_consumer_config(f"{client}-consumer"))
        self._backpressure = Backpressure(self._consumer, self._max_buffered)
        self._restorer = ChangelogReader(self._restore_consumer, self.eos, self._restore_progress,
                                         stall_timeout_s=cfg.task_timeout_ms / 1000)
        self._group = StreamsMember(self)

    # ------------------------------------------------------------------ rebalance (called by thread_rebalance.py)
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The member's partitions after a rebalance: create the tasks new here; a stateful one restores first
        (RESTORING, between polls), the others run at once."""
        self.rebalancing = True
        self.streams._thread_rebalancing()
        wanted: dict[TaskId, list[tuple[str, int]]] = {}
        for tp in partitions:
            sub = self.plan.subtopology_of(tp.topic)
            if sub is None:
                continue
            wanted.setdefault(TaskId(sub.id, tp.partition), []).append((tp.topic, tp.partition))
        self._create_tasks(wanted)
        restorer = self._restorer
        assert restorer is not None
        log.info("%s assigned %d partitions, tasks %s%s", self.name, len(partitions),
                 sorted(str(t) for t in self.tasks),
                 f", restoring {sorted(str(t) for t in restorer.restoring)}" if restorer else "")
        self.assigned_once = True
        if not restorer:
            self.rebalancing = False
            self.streams._thread_running()

    def _create_tasks(self, wanted: dict[TaskId, list[tuple[str, int]]]) -> None:
        """Create the tasks of `wanted` not here yet (RESTORING when they have state to restore) and map the
        partitions of the running ones."""
        assert self._collector is not None
        restorer = self._restorer
        assert restorer is not None
        for task_id in sorted(wanted):
            if task_id in restorer:
                continue  # still restoring: it runs (and gets its partitions) once restored
            sub = next(s for s in self.plan.subtopologies if s.id == task_id.subtopology)
            at = self.tasks.get(task_id)
            if at is None:
                at = create_task(self.topology, task_id, sub, self.streams.app_configs, self._collector,
                                 self.config.state_dir, self.config.application_id, self.eos, self._cache,
                                 self.streams.global_state.stores if self.streams.global_state else None)
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
        except CLIENT_ERRORS as e:
            if not (is_task_migration(e, self.eos, self._collector) or task_corrupted(e)):
                raise
            err = error_of(e, self._collector)
            log.warning("%s: commit on revocation failed (%s): closing tasks without committing", self.name, err)
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

    # ------------------------------------------------------------------ main loop
    def _loop(self) -> None:
        last_commit = [time.monotonic()]
        while self.running:
            try:
                self._iteration(last_commit)
            except CLIENT_ERRORS as e:
                if task_corrupted(e) or self._retry_kept():  # Kafka's TaskCorruptedException
                    try:
                        self._handle_task_corrupted(e)
                    except CLIENT_ERRORS as again:  # e.g. fenced while reading the committed offsets
                        if not is_task_migration(again, self.eos, self._collector):
                            raise
                        self._handle_task_migration(again)
                    continue
                if not is_task_migration(e, self.eos, self._collector):
                    raise
                raise_refused_record(self._collector)
                self._handle_task_migration(e)

    def _iteration(self, last_commit: list[float]) -> None:
        """One poll: consume a batch, process every task's buffered records, punctuate, maybe commit."""
        consumer, cfg = self._consumer, self.config
        assert consumer is not None
        if self._rejoin_pending:
            self._rejoin_pending = False
            self._rejoin_group()
        if self.eos and self._in_transaction and self._group.member.rejoin_needed:
            # the join below may block (the coordinator holds a JoinGroup until every member rejoined): end the
            # open transaction first, or a join longer than transaction.timeout.ms has the broker abort it and the
            # next commit becomes a task migration (Java's poll() does not block on the join)
            self._commit()
            last_commit[0] = time.monotonic()
        if self._cache_resize is not None:
            self._apply_cache_resize()
        poll_group(self)
        is_paused = getattr(getattr(self, "streams", None), "is_paused", None)  # KafkaStreams.pause()
        if is_paused is not None and is_paused():
            self._paused_iteration(last_commit)
            return
        # while tasks restore, do not wait for input: the restore step is the wait
        # Java's poll(): what is ready at once; blocks (up to poll.ms) only when nothing is (processing.poll_records)
        messages = poll_records(consumer, cfg.max_poll_records, 0 if self._restorer else cfg.poll_ms / 1000.0)
        self.metrics.polls += 1
        backpressure = self._backpressure
        if messages:
            full = hand_over(messages, self.by_partition, self._max_buffered if backpressure is not None else -1)
            if full:  # buffered.records.per.partition: one pause call per poll
                backpressure.pause(full)  # type: ignore[union-attr]  # full is empty without one
        if self._restorer:
            self._restore_step()
        if self.eos and not self._in_transaction and self.tasks:
            # after the rebalance: its revocation may have committed (ending the transaction) or created the
            # first tasks, and a transactional producer refuses records outside a transaction (_STATE).
            # Local in librdkafka until something is produced; empty ones commit for free.
            self._begin()
        collector = self._collector  # after the rebalance: a failed revocation may have replaced the producer
        assert collector is not None
        process_tasks(self.tasks.values(), self.metrics, last_commit, consumer)  # consumer: task idling lags
        if backpressure is not None and backpressure.paused:
            backpressure.resume_drained(self.by_partition)
        if self._standby is not None:
            self._standby.poll()
        collector.poll()
        collector.check()
        now = time.monotonic()
        if now - last_commit[0] >= cfg.commit_interval_ms / 1000.0 and self.tasks:
            self._commit()
            last_commit[0] = now
        self.metrics.refresh_lag(consumer, self.by_partition, now)  # here: /metrics never calls the consumer

    def _paused_iteration(self, last_commit: list[float]) -> None:
        """KafkaStreams.pause() (KIP-834): membership, rebalances, delivery reports and commits go on; nothing is
        fetched, restored or processed, no punctuator or standby runs, until resume() (signal_resume wakes it)."""
        collector = self._collector
        assert collector is not None
        collector.poll()
        collector.check()
        now = time.monotonic()
        if now - last_commit[0] >= self.config.commit_interval_ms / 1000.0 and self.tasks:
            self._commit()
            last_commit[0] = now
        signal = self._resume_signal
        if signal is None:
            time.sleep(self.config.poll_ms / 1000.0)
            return
        signal.wait(self.config.poll_ms / 1000.0)
        signal.clear()

    # ------------------------------------------------------------------ task migration (fencing)
    def _handle_task_migration(self, e: BaseException) -> None:
        """Like Kafka: drop the uncommitted work (abort, close tasks dirty: under EOS their state is wiped and
        restored from the changelog on reassignment), get a fresh producer if this one is unusable, and rejoin
        the group, which resumes every partition from its committed offset."""
        err = error_of(e, self._collector)
        log.warning("%s: tasks migrated (%s): aborting uncommitted work and rejoining the group", self.name, err)
        self.streams._thread_rebalancing()
        self._drop_uncommitted(err)
        self._rejoin_group()

    def _retry_kept(self) -> bool:
        """Whether production.exception.handler answered RETRY to the send failure the collector keeps (under
        exactly_once_v2 it shows first as a transaction that cannot commit)."""
        retry_requested = getattr(self._collector, "retry_requested", None)
        return bool(retry_requested is not None and retry_requested())

    def _handle_task_corrupted(self, e: BaseException) -> None:
        """production.exception.handler answered RETRY to a retriable send error: Kafka's TaskCorruptedException
        (KIP-1065). Under exactly_once_v2 the open transaction cannot commit: abort, close every task dirty (state
        wiped) and rejoin, as for a task migration (Kafka also enforces a rebalance then); under at_least_once the
        tasks are revived in place from the last commit (tasks.revive_corrupted)."""
        if self.eos:
            self._handle_task_migration(e)
            return
        log.warning("%s: production.exception.handler returned RETRY (%s): tasks %s are corrupted; closing them "
                    "without committing and resuming them from their last committed offsets", self.name, e,
                    sorted(str(t) for t in self.tasks))
        revive_corrupted(self)
        self.revived += 1

    def _rejoin_group(self) -> None:
        """Every task was closed dirty: give the partitions up and rejoin (Kafka's handleLostAll)."""
        consumer = self._consumer
        assert consumer is not None
        if self._backpressure is not None:
            self._backpressure.forget()
        consumer.unassign()
        self._group.member.drop_partitions("tasks were closed without committing")

    def _drop_uncommitted(self, err: KafkaError | None) -> None:
        """Abort the open transaction and close every task dirty; a producer that is fenced, fatally failed, or
        cannot abort is replaced (Kafka's StreamsProducer.resetProducer), so the next transaction can begin."""
        unusable = producer_unusable(err)
        aborting = self.eos and self._in_transaction
        if not unusable:
            unusable = not self._abort_transaction()
            if aborting and not unusable and self._collector is not None:
                # the abort purged the transaction's unsent records: their failed delivery reports belong to it
                self._collector.poll()
                self._collector.error = None
        self._in_transaction = False
        self._close_tasks(clean=False)
        collector = self._collector
        if unusable or (collector is not None and collector.error is not None):
            self._collector = replace_collector(collector, self.config, f"{self.name}-producer",
                                                self._transactional_id())

    # ------------------------------------------------------------------ commit
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
                offsets.extend(TopicPartition(t, p, o) for (t, p), o in task_offsets.items()
                               if at.committed_offsets.get((t, p)) != o)
        if self.eos:
            if offsets:
                # our member id and generation, so the broker fences a zombie by generation (KIP-447)
                collector.producer.send_offsets_to_transaction(offsets, self._group.group_metadata(), 60)
            commit_transaction(collector)
            self._in_transaction = False
            collector.check()
        else:
            collector.flush_producer()
            if offsets:
                try:  # OffsetCommit as our member and generation
                    self._group.commit({(tp.topic, tp.partition): tp.offset for tp in offsets})
                except RebalanceInProgressError as e:  # like Kafka Streams: keep the tasks, commit after the rejoin
                    log.info("%s: commit skipped (%s); it is retried after the rebalance", self.name, e)
                    return
        for at in changed:
            at.committed_offsets = at.task.committable_offsets()
            at.committed_processed = at.task.metrics.processed
        if final or not self.eos:  # under EOS the checkpoint is written on close only, like Kafka
            for at in (self.tasks.values() if final else changed):
                checkpoint_task(at, consumer, collector, force=final, eos=self.eos)
        self.metrics.commits += 1
        self.metrics.last_commit_ms = (time.monotonic() - started) * 1000
        self._purger.maybe_purge(self.streams.admin, (at.committed_offsets for at in self.tasks.values()))

    def _abort_transaction(self) -> bool:
        """Abort the open transaction (if any); False when the producer could not abort (it must be replaced)."""
        ok = True
        if self.eos and self._in_transaction and self._collector is not None:
            ok = abort_transaction(self._collector)
            self._in_transaction = False
        return ok

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

    def _close(self, clean: bool) -> None:
        """Clean: final commit + checkpoints, leave the group. Dirty: abort, close tasks without committing."""
        try:
            if clean and self.tasks:
                self._commit(final=True)
        except BaseException as e:  # noqa: BLE001
            log.error("%s: final commit failed: %s", self.name, e)
            self.error = self.error or e
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
        if self._collector is not None:
            try:
                self._collector.close()
            except Exception as e:  # noqa: BLE001
                log.warning("%s: producer close: %s", self.name, e)
        # drop the clients now: librdkafka instances live (and reconnect) until the last reference goes
        self._consumer = self._restore_consumer = None
        self._collector = None
