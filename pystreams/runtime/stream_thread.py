"""StreamThread: one consumer, one producer and the active tasks assigned to them (Kafka's StreamThread).

Loop: consume a batch, hand each partition's records to its task, process every task until its buffers are empty,
punctuate, and every commit.interval.ms commit: task commits (caches flushed -> changelog records produced),
producer flush, then the consumed offsets (at_least_once) or the transaction with the offsets (exactly_once_v2).
Under at_least_once a thread whose input ran dry also flushes its record caches between commits, without
committing (idle_flush.py, docs/adr/0006-flush-the-cache-when-input-runs-dry.md).

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

This module is the thread itself: clients, lifecycle and the poll/process loop (the hot path: its per-poll work
stays inline here). The rest is mixed in from modules of their own, as Kafka keeps TaskManager apart from
StreamThread: task_manager.py (tasks across rebalances, restore hand-over, closing tasks), thread_commit.py (commit,
transactions, the final close), thread_recovery.py (task migration and task corruption).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer

from pystreams.processor.task_id import TaskId
from pystreams.runtime.collector import KafkaRecordCollector, task_corrupted
from pystreams.runtime.config import thread_cache_bytes
from pystreams.runtime.group.membership import MemberState
from pystreams.runtime.group.thread_rebalance import MetadataWarmup, poll_group
from pystreams.runtime.idle_flush import IdleCacheFlush
from pystreams.runtime.processing import (
    BUFFERED_RECORDS_PER_PARTITION_CONFIG,
    Backpressure,
    hand_over,
    parse_buffered_records,
    poll_records,
    process_tasks,
)
from pystreams.runtime.repartition_purge import RepartitionPurger
from pystreams.runtime.restore import ChangelogReader, restore_consumer_config
from pystreams.runtime.standby import StandbyManager
from pystreams.runtime.streams_producer import (
    ProducerBlockedError,
    open_collector,
    output_pending,
    send_lingering_while_idle,
)
from pystreams.runtime.task_manager import TaskManager
from pystreams.runtime.task_migration import (
    CLIENT_ERRORS,
    is_task_migration,
    raise_refused_record,
)
from pystreams.runtime.tasks import ActiveTask
from pystreams.runtime.thread_commit import ThreadCommit
from pystreams.runtime.thread_metrics import ThreadMetrics
from pystreams.runtime.thread_recovery import ThreadRecovery
from pystreams.runtime.topics import TopologyPlan
from pystreams.state.internals.cache import ThreadCache

if TYPE_CHECKING:
    from pystreams.runtime.kafka_streams import KafkaStreams

log = logging.getLogger("pystreams.runtime")

#: member states while a JoinGroup/SyncGroup round runs (the thread may be blocked in it)
_IN_JOIN = (MemberState.PREPARING_REBALANCE, MemberState.COMPLETING_REBALANCE)


# ThreadMetrics lives in thread_metrics.py; importable from here too
__all__ = ["StreamThread", "ThreadMetrics"]


class StreamThread(TaskManager, ThreadCommit, ThreadRecovery, threading.Thread):
    """Runs tasks for one KafkaStreams client; errors go to the client's uncaught-exception handling."""

    _max_buffered = -1  # buffered.records.per.partition (-1 until read: no bound)
    #: input partitions paused while their task queue is full (processing.py), made with the consumer
    _backpressure: Backpressure | None = None
    revived = 0  # times the tasks were closed dirty and revived after a RETRY (at_least_once)
    #: KafkaStreams.close(CloseOptions(...REMAIN_IN_GROUP)) sets False: close without a LeaveGroup; close() and
    #: remove_stream_thread() set GroupMembershipOperation.LEAVE_GROUP (docs/adr/0005)
    leave_group_on_close: Any = True
    _cache_resize: int | None = None  # a new record-cache budget for the loop to apply (resize_cache)
    _resume_signal: threading.Event | None = None  # set by signal_resume(): a paused loop wakes up at once
    #: the main consumer's source-topic metadata read during the join (thread_rebalance.MetadataWarmup)
    _metadata_warmup: MetadataWarmup | None = None
    #: pystreams.cache.flush.when.idle under at_least_once: flush the record caches when the input ran dry
    _idle_flush: IdleCacheFlush | None = None

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
        self.metrics = ThreadMetrics(owner=self)
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
        # docs/adr/0006: at_least_once only (under EOS output is invisible until the transaction commits anyway)
        self._idle_flush = (IdleCacheFlush(self._cache) if self.config.cache_flush_when_idle and not self.eos
                            else None)

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
            warmup, self._metadata_warmup = self._metadata_warmup, None
            if warmup is not None:  # its list_topics must end before the consumer is closed
                warmup.wait()
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
        plan = getattr(self, "plan", None)  # a test's bare thread has none
        self._metadata_warmup = MetadataWarmup(self._consumer, [t for t in (plan.subscription() if plan else [])
                                                                 if not t.startswith("^")])
        self._metadata_warmup.start(self.name)  # read while the member joins (thread_rebalance.assign waits for it)
        self._backpressure = Backpressure(self._consumer, self._max_buffered)
        self._restorer = ChangelogReader(self._restore_consumer, self.eos, self._restore_progress,
                                         stall_timeout_s=cfg.task_timeout_ms / 1000,
                                         listener=getattr(self.streams, "_global_restore_listener", None),
                                         closing=lambda: not self.running or self.error is not None)
        self._group = StreamsMember(self)

    # ------------------------------------------------------------------ main loop
    def _loop(self) -> None:
        last_commit = [time.monotonic()]
        while self.running:
            try:
                self._iteration(last_commit)
            except ProducerBlockedError as e:  # an EOS commit outlived max.block.ms (librdkafka#5456)
                self._handle_producer_blocked(e)
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
        wait = 0 if self._restorer else cfg.poll_ms / 1000.0
        idle_flush = self._idle_flush  # None under exactly_once_v2 or pystreams.cache.flush.when.idle=false
        cache_dirty = idle_flush is not None and idle_flush.pending()
        if cache_dirty or (wait and output_pending(self._collector)):
            messages = poll_records(consumer, cfg.max_poll_records, 0)
            if not messages:  # input ran dry
                if idle_flush is not None and cache_dirty:  # caught up: the caches emit now, no commit (idle_flush.py)
                    idle_flush.input_ran_dry(self.tasks.values(), consumer, self.by_partition)
                if wait:  # what lingers in the producer goes out now, while the poll waits for input
                    messages = send_lingering_while_idle(
                        self._collector, lambda t: poll_records(consumer, cfg.max_poll_records, t), wait)
        else:
            messages = poll_records(consumer, cfg.max_poll_records, wait)
        self.metrics.note_poll(len(messages))
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
        else:
            signal.wait(self.config.poll_ms / 1000.0)
            signal.clear()
        # a paused iteration ends like a running one, so the first poll after resume() is not timed from the pause
        self.metrics.end_iteration(self.by_partition.values())
