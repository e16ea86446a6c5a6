"""Global stores (GlobalKTable / add_global_store): one global task per client, fed from every partition of the
global topics by the global thread `<client.id>-GlobalStreamThread` (Kafka's GlobalStreamThread). As in Kafka, that
thread does everything with the global state: it creates the global task, opens its stores, bootstraps them (reads
every global partition to its end), then keeps them up to date and finally closes them; start() waits until the
bootstrap is done and raises the thread's error if it failed (Kafka's GlobalStreamThread.start()). So a cached
global store records the global thread as the owner of its record cache (cache_layer.py: the thread that ran
init()), and queries from any other thread only read it. The global thread gets its share of the client's record
cache (statestore.cache.max.bytes split over the stream threads plus one, Kafka's cacheSizePerThread).

The input offsets are checkpointed in `<state.dir>/<app>/global/.checkpoint` (Kafka's format) when every global
store is persistent, so a restart resumes where it stopped. The global thread flushes its record cache and stores
and writes the checkpoint when Kafka 4.x's GlobalStateUpdateTask does: once the bootstrap is done and at close
(KAFKA-18168), and while running only when commit.interval.ms passed since the last flush AND the offsets moved by
more than 10,000 records since (maybeCheckpoint, KAFKA-15625: StateManagerUtil.checkpointNeeded with
OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT); in between, updates stay in its record cache (queries and stream tasks read
through it). As in Kafka's GlobalStateManagerImpl, a global checkpoint holds the NEXT offset to read per
partition (the consumer's position), not the last offset read as a task's changelog checkpoint does. pystreams
before 2026-11-28 wrote the last offset read; the two are the same file format, so pystreams writes an empty
marker file next to it (`.checkpoint.next-offsets`): a global checkpoint without the marker is an older pystreams'
and is read as offset + 1 (rewritten in the new form at the next checkpoint).

A global topic that no longer matches the local state (Kafka's InvalidOffsetException on the global consumer,
which runs with auto.offset.reset=error like the restore consumer): a checkpoint outside the topic's range
(DeleteRecords or retention past it, or the topic deleted and re-created), or the consumer's position going out
of range while bootstrapping. The global state is then wiped (tasks.reopen_wiped, as for a corrupted task) and
bootstrapped again from the beginning of every global partition, as Kafka's GlobalStateManagerImpl reinitializes
a global store during restore. Out of range after start() (while the global thread keeps the stores up to date),
Kafka 4.x's GlobalStreamThread wipes the global state on close and fails ("You can restart KafkaStreams to recover
from this error"): pystreams does the same (the next start bootstraps from the beginning); stream tasks hold the
global stores open, so they cannot be swapped under them.

The client's StateRestoreListener (KafkaStreams.set_global_state_restore_listener) sees the bootstrap, on the
global thread, as Kafka's GlobalStateManagerImpl reports it: per global partition on_restore_start(partition,
store, the offset it starts from, the end offset), on_batch_restored(partition, store, the consumer's position after
the batch - Kafka passes the position here, not the last offset - , records in the batch), on_restore_end(partition,
store, records read); a wipe while bootstrapping suspends (on_restore_suspended) the partitions not yet at their
end and starts them again. Updates after start() are not restores and are not reported, as in Kafka. A listener
that raises fails start()."""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from pystreams.errors import PystreamsError, StateStoreError
from pystreams.processor.internals import StreamsException, StreamTask
from pystreams.runtime.changelog_offsets import (
    OUT_OF_RANGE,
    describe_invalid,
    global_consumer_config,
    invalid_checkpoints,
)
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint, write_checkpoint
from pystreams.runtime.tasks import (
    OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT,
    reopen_wiped,
    wipe_task_dir,
)
from pystreams.runtime.thread_admin import cache_size_per_thread, total_cache_bytes
from pystreams.runtime.watermarks import watermarks
from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.runtime")

#: the global task's directory under <state.dir>/<application.id> (Kafka's "global")
GLOBAL_TASK_DIR = "global"
#: Kafka's GlobalStreamThread.start() error when the thread was shut down while initializing
_INIT_FAILED = "Initialization for the global stream thread failed"
#: how long close() waits for the global thread to close the global stores
CLOSE_WAIT_S = 30


class _NoOutput:
    """Global processors only update their store; a send means the topology is wrong."""

    def send(self, topic: str, *args: Any) -> None:
        raise StreamsException(f"a global store processor tried to write to topic {topic}: global processors may "
                               "only update their store")

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


#: Written next to the global .checkpoint by pystreams versions that store the next offset to read (Kafka's form)
NEXT_OFFSETS_MARKER = ".checkpoint.next-offsets"


def read_global_checkpoint(task_dir: str) -> dict[tuple[str, int], int]:
    """The global checkpoint as next offsets to read (Kafka's meaning); one written by an older pystreams (no
    marker file: it held the last offset read) is converted by adding 1 to each known offset."""
    checkpoint = read_checkpoint(task_dir)
    if checkpoint and not os.path.exists(os.path.join(task_dir, NEXT_OFFSETS_MARKER)):
        log.info("global checkpoint in %s was written by an older pystreams (last offset read): resuming at the "
                 "offset after each", task_dir)
        checkpoint = {tp: o + 1 if o >= 0 else o for tp, o in checkpoint.items()}
    return checkpoint


def write_global_checkpoint(task_dir: str, offsets: dict[tuple[str, int], int]) -> None:
    """Kafka's global checkpoint: the next offset to read per partition; the marker first, so a crash between the
    two can only make a restart read one record again, never skip one."""
    os.makedirs(task_dir, exist_ok=True)
    marker = os.path.join(task_dir, NEXT_OFFSETS_MARKER)
    if not os.path.exists(marker):
        with open(marker, "w", encoding="utf-8"):
            pass
    write_checkpoint(task_dir, offsets)


class GlobalOffsetOutOfRange(StreamsException):
    """The global consumer's position is outside a global partition (Kafka's InvalidOffsetException): the local
    global state no longer matches the topic."""


class GlobalStateManager:
    """Owns the global thread and, through it, the global task, its consumer and the global stores."""

    def __init__(self, streams: Any) -> None:
        self.streams = streams
        topology = streams.topology
        nodes = topology.global_subtopology_nodes()
        self._node_names = [n for src, proc, _ in nodes for n in (src, proc)]
        # global topic -> its store, for the restore listener and errors
        self._store_of = {t: store for src, _proc, store in nodes for t in topology.node(src).topics}
        self.topics = sorted(self._store_of)
        self.task_dir = os.path.join(streams.config.state_dir, streams.config.application_id, GLOBAL_TASK_DIR)
        self.lock = TaskDirLock(self.task_dir)
        # created, opened and bootstrapped by the global thread (start()); None before and if that failed
        self.task: StreamTask | None = None
        # the global thread's record cache: its share of statestore.cache.max.bytes (Kafka's cacheSizePerThread)
        self.cache = ThreadCache(cache_size_per_thread(total_cache_bytes(streams), streams.config.num_stream_threads,
                                                       True))
        self._cache_resize: int | None = None
        self._listener = getattr(streams, "_global_restore_listener", None)
        self._counts: dict[tuple[str, int], int] = {}  # records per partition in the last _poll
        self._restoring: dict[tuple[str, int], int] = {}  # bootstrap: records read per partition not at its end
        self.consumer: Consumer | None = None
        self.records = 0
        self._stop = threading.Event()
        self._start_lock = threading.Lock()  # start() and close(): a close never misses a thread being started
        self._ready = threading.Event()  # set by the global thread when its initialization ended (either way)
        self._timeout = 300.0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # what failed the global thread after start()
        self.startup_error: BaseException | None = None  # what failed its initialization (raised by start())
        self.name = f"{streams.client_id}-GlobalStreamThread"
        self.corrupted = 0  # times the global state was wiped because the global topics no longer matched it
        self._errors: dict[tuple[str, int], str] = {}  # the last transient consumer error said per partition
        self._wipe_on_close = False
        # next offset to read per global partition (Kafka's checkpointFileCache): the consumer's positions after
        # the bootstrap, then what the task processed; a partition without new records keeps its offset
        self._offsets: dict[tuple[str, int], int] = {}
        # Kafka's GlobalStateUpdateTask flush timing: commit.interval.ms between flushes (and checkpoints), the
        # offsets of the last one (stateMgr.changelogOffsets()) for the 10,000-record delta, the clock (tests set it)
        self._flush_interval = streams.config.commit_interval_ms / 1000.0
        self._poll_timeout = streams.config.poll_ms / 1000.0
        self._flushed: dict[tuple[str, int], int] = {}
        self._clock = time.monotonic
        self._last_flush = 0.0
        self.flushes = 0  # flushes with a checkpoint (bootstrap end, commit intervals, close)

    def _new_task(self) -> StreamTask:
        return StreamTask(self.streams.topology, "global", self.streams.app_configs, _NoOutput(),
                          state_dir=self.streams.config.state_dir, node_names=self._node_names,
                          cache=self.cache, task_dir_name=GLOBAL_TASK_DIR)

    def _reopened(self) -> StreamTask:
        task = self._new_task()
        task.initialize()
        return task

    @property
    def stores(self) -> dict[str, Any]:
        return self.task.stores if self.task is not None else {}

    @property
    def thread(self) -> threading.Thread | None:
        """The global thread (`<client.id>-GlobalStreamThread`), once start() created it."""
        return self._thread

    def start(self, timeout: float = 300.0) -> None:
        """Start the global thread and wait until it opened the global stores and read every global partition to
        its end (Kafka's GlobalStreamThread.start()); its initialization error is raised here, after the thread
        closed what it had opened. Closed before it started (a KafkaStreams.close() that came in as start() made
        it): no thread is started, and start() fails as a close during the bootstrap does."""
        with self._start_lock:  # close() sets _stop under it: it joins the thread started here, or none starts
            if self._stop.is_set():
                raise StreamsException(f"{_INIT_FAILED}: the client was closed before the global stores were "
                                       "bootstrapped")
            if not self.lock.try_lock():
                raise StateStoreError(f"the global state directory {self.task_dir} is used by another process: "
                                      "give each instance on this machine its own state.dir")
            self._timeout = timeout
            # Kafka names the global thread <client.id>-GlobalStreamThread (KafkaStreams constructor)
            thread = self._thread = threading.Thread(target=self._main, daemon=True, name=self.name)
            thread.start()
        self._ready.wait()
        if self.startup_error is None and self._stop.is_set():  # closed as the bootstrap ended: Kafka's start()
            self.startup_error = StreamsException(f"{_INIT_FAILED}: the client was closed while the global stores "
                                                  "were bootstrapping")
        if self.startup_error is not None:
            thread.join()  # it is closing the stores and the consumer: done before start() fails
            raise self.startup_error

    def _main(self) -> None:
        """The global thread: initialize (open and bootstrap), keep the stores current, close them."""
        try:
            self._initialize()
        except BaseException as e:  # noqa: BLE001 - raised again by start() on the caller's thread
            if isinstance(e, PystreamsError):
                self.startup_error = e
            else:  # Kafka wraps what is not a StreamsException the same way
                self.startup_error = StreamsException(
                    f"Exception caught during initialization of GlobalStreamThread: {type(e).__name__}: {e}")
                self.startup_error.__cause__ = e
            log.error("%s: initialization of the global state failed: %s", self.name, self.startup_error)
            self._shutdown(wipe=False, checkpoint=False)
            return
        finally:
            self._ready.set()
        try:
            self._run()
        finally:
            self._shutdown(wipe=self._wipe_on_close, checkpoint=self.error is None)

    def _initialize(self) -> None:
        """Kafka's GlobalStreamThread.initialize on this thread: the global task and its stores opened here (so
        caching stores record this thread as their cache's owner), then read to the end of every partition."""
        self.task = self._new_task()
        self.task.initialize()
        persistent = all(getattr(s, "persistent", False) for s in self.task.stores.values())
        checkpoint = read_global_checkpoint(self.task_dir) if persistent else {}
        consumer = self.consumer = Consumer(global_consumer_config(
            self.streams.config, f"{self.streams.client_id}-global-consumer"))
        metadata = consumer.list_topics(timeout=30)
        partitions: list[tuple[str, int]] = []
        for topic in self.topics:
            t = metadata.topics.get(topic)
            if t is None or t.error is not None or not t.partitions:
                # the start of the message is what `pystreams run` users grep for; the rest is Kafka's
                raise StreamsException(
                    f"global topic {topic} does not exist: create it before starting the app (There are no "
                    f"partitions available for topic {topic} when initializing global store "
                    f"{self._store_of[topic]})")
            partitions.extend((topic, p) for p in t.partitions)
        timeout = self._timeout
        deadline = time.monotonic() + timeout
        marks = {tp: watermarks(consumer, TopicPartition(*tp)) for tp in partitions}
        invalid = invalid_checkpoints(checkpoint, marks, partitions, next_offsets=True)
        if invalid:
            self._wipe(describe_invalid(invalid, "global topic"))
            checkpoint = {}
        while True:
            try:
                self._bootstrap(partitions, checkpoint, marks, deadline, timeout)
                break
            except GlobalOffsetOutOfRange as e:  # wipe and bootstrap again from the beginning
                self._notify_suspended()
                self._wipe(str(e))
                checkpoint = {}
                marks = {tp: watermarks(consumer, TopicPartition(*tp)) for tp in partitions}
        self._offsets = dict(checkpoint)
        positions = self._positions(partitions)
        for tp in partitions:
            if tp in positions:  # a partition read nothing keeps its checkpoint
                self._offsets[tp] = max(positions[tp], self._offsets.get(tp, -1))
            elif tp not in self._offsets and marks[tp][0] == marks[tp][1]:
                # empty, never fetched: Kafka checkpoints every global partition, this one at its position after
                # seekToBeginning (its log start, here its end)
                self._offsets[tp] = marks[tp][1]
        # Kafka 4.x flushes and checkpoints as the bootstrap ends (KAFKA-18168): a restart right after does not
        # read everything again
        self._flush_state()

    def _bootstrap(self, partitions: list[tuple[str, int]], checkpoint: dict[tuple[str, int], int],
                   marks: dict[tuple[str, int], tuple[int, int]], deadline: float, timeout: float) -> None:
        """Assign every global partition at its checkpoint (the next offset to read; else its beginning) and read
        up to the end offsets of `marks` ((log start, end) per partition), telling the restore listener."""
        assert self.consumer is not None
        ends = {tp: high for tp, (_low, high) in marks.items()}
        self.consumer.assign([TopicPartition(t, p, checkpoint[(t, p)] if checkpoint.get((t, p), -1) >= 0
                                             else OFFSET_BEGINNING) for t, p in partitions])
        remaining = {tp for tp, end in ends.items()
                     if end > 0 and (checkpoint.get(tp, -1) < 0 or checkpoint[tp] < end)}
        self._restoring = {tp: 0 for tp in sorted(remaining)}  # records read per partition still restoring
        if self._listener:
            for tp in sorted(ends):
                start = checkpoint[tp] if checkpoint.get(tp, -1) >= 0 else marks[tp][0]
                self._listener.on_restore_start(tp, self._store_of[tp[0]], start, ends[tp])
                if tp not in remaining:
                    self._listener.on_restore_end(tp, self._store_of[tp[0]], 0)
        while remaining:
            if self._stop.is_set():
                raise StreamsException(f"{_INIT_FAILED}: the client was closed while the global stores were "
                                       "bootstrapping")
            if time.monotonic() > deadline:
                raise StateStoreError(f"global stores did not reach the end of {sorted(remaining)} in {timeout} s")
            self._poll(0.2)
            done = [tp for tp in sorted(remaining) if self._position(tp) >= ends[tp]]
            remaining.difference_update(done)
            for tp, count in sorted(self._counts.items()):
                if tp in self._restoring:
                    self._restoring[tp] += count
                    if self._listener:
                        self._listener.on_batch_restored(tp, self._store_of[tp[0]], self._position(tp), count)
            for tp in done:
                total = self._restoring.pop(tp)
                if self._listener:
                    self._listener.on_restore_end(tp, self._store_of[tp[0]], total)

    def _notify_suspended(self) -> None:
        """The bootstrap stops for a wipe: the partitions not at their end yet are suspended (then start again)."""
        restoring, self._restoring = self._restoring, {}
        if self._listener:
            for tp, total in sorted(restoring.items()):
                self._listener.on_restore_suspended(tp, self._store_of[tp[0]], total)

    def _wipe(self, why: str) -> None:
        """Kafka's reinitialization of a corrupted global store: close it, delete the global state (stores and
        checkpoint; the lock stays held) and open it again empty (before any stream task holds it)."""
        log.warning("global state is corrupted (%s: the global topic was truncated, or deleted and re-created): "
                    "it is wiped and bootstrapped again from the beginning of the global topics", why)
        if self.consumer is not None:
            self.consumer.unassign()
        assert self.task is not None
        self.task = reopen_wiped(self.task, self.task_dir, self._reopened, "global task")
        self.records = 0
        self.corrupted += 1

    def _positions(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The consumer's known positions (next offsets to read); a partition it has not fetched yet is left out."""
        assert self.consumer is not None
        return {(tp.topic, tp.partition): int(tp.offset)
                for tp in self.consumer.position([TopicPartition(*tp) for tp in partitions]) if tp.offset >= 0}

    def _position(self, tp: tuple[str, int]) -> int:
        assert self.consumer is not None
        return int(self.consumer.position([TopicPartition(*tp)])[0].offset)

    def _poll(self, timeout: float) -> set[tuple[str, int]]:
        assert self.consumer is not None and self.task is not None
        grouped: dict[tuple[str, int], list[Any]] = {}
        touched: set[tuple[str, int]] = set()
        for m in self.consumer.consume(num_messages=10_000, timeout=timeout):
            tp: Any = (m.topic(), m.partition())
            touched.add(tp)
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                if err.code() in OUT_OF_RANGE:
                    raise GlobalOffsetOutOfRange(f"global topic {tp[0]}-{tp[1]}: {err}")
                if err.fatal():
                    raise StateStoreError(f"global consumer: {err}")
                # transient (a leader moving, a topic being re-created): librdkafka retries by itself; said once
                # per partition until its error changes
                if self._errors.get(tp) != str(err):
                    self._errors[tp] = str(err)
                    log.warning("global consumer: %s-%s: %s (retrying)", tp[0], tp[1], err)
                continue
            grouped.setdefault(tp, []).append((m.offset(), m.timestamp()[1], m.key(), m.value(), m.headers() or ()))
        self._counts = {}
        for (topic, p), records in grouped.items():
            self.task.add_records(topic, p, records)
            self.records += len(records)
            self._counts[(topic, p)] = len(records)
        while self.task.process():
            pass
        return touched

    def resize_cache(self, max_bytes: int) -> None:
        """A new record-cache budget (stream threads added or removed): applied by the global thread at its next
        poll, evicting down to it (Kafka's GlobalStreamThread.resize)."""
        self._cache_resize = max_bytes

    def _apply_cache_resize(self) -> None:
        size, self._cache_resize = self._cache_resize, None
        if size is None:
            return
        cache = self.cache
        cache.max_bytes = size
        for named in list(cache.caches.values()):
            if cache.total <= size:
                break
            cache.maybe_evict(named)

    def _run(self) -> None:
        """The global thread after start(): poll (poll.ms) and update the stores until close(), flushing and
        checkpointing when due (Kafka's StateConsumer.pollAndUpdate); a failure is reported to the client as a
        stream thread's would be."""
        assert self.task is not None
        try:
            while not self._stop.is_set():
                self._apply_cache_resize()
                self._poll(self._poll_timeout)
                self._maybe_checkpoint()
        except GlobalOffsetOutOfRange as e:  # Kafka 4.x: wipe the global state on close, fail; a restart recovers
            log.error("Updating global state failed due to inconsistent local state (%s). Will attempt to clean up "
                      "the local state. You can restart KafkaStreams to recover from this error.", e)
            self._wipe_on_close = True
            self.error = StreamsException(f"Updating global state failed ({e}). You can restart KafkaStreams to "
                                          "launch a new global thread to recover from this error.")
            self.streams._thread_failed(self, self.error)
        except BaseException as e:  # reported to the client like a stream thread's failure
            self.error = e
            log.exception("global thread failed")
            self.streams._thread_failed(self, e)

    def _maybe_checkpoint(self) -> bool:
        """Kafka's GlobalStateUpdateTask.maybeCheckpoint: flush and checkpoint once commit.interval.ms passed since
        the last flush and the offsets moved by more than OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT records since it
        (summed over the global partitions); True when it did."""
        now = self._clock()
        if now - self._last_flush < self._flush_interval:
            return False
        assert self.task is not None
        self._offsets.update(self.task.committable_offsets())
        delta = sum(o - self._flushed.get(tp, 0) for tp, o in self._offsets.items() if o >= 0)
        if delta <= OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT:
            return False
        self._flush_state(now)
        return True

    def _flush_state(self, now: float | None = None) -> None:
        """Kafka's GlobalStateUpdateTask.flushState: the record cache and the stores flushed (the task's commit),
        then the checkpoint written with the offsets they now reflect."""
        assert self.task is not None
        self.task.commit()
        self._checkpoint()
        self._flushed = dict(self._offsets)
        self._last_flush = self._clock() if now is None else now
        self.flushes += 1

    def _checkpoint(self) -> None:
        """The next offset to read per global partition (Kafka's global checkpoint), of those read so far."""
        assert self.task is not None
        self._offsets.update(self.task.committable_offsets())
        offsets = {tp: o for tp, o in self._offsets.items() if o >= 0}
        if offsets:
            write_global_checkpoint(self.task_dir, offsets)

    def _shutdown(self, wipe: bool, checkpoint: bool) -> None:
        """On the global thread, as it ends: a last commit and checkpoint (`checkpoint`: it did not fail), the
        stores and the consumer closed, the global state wiped when it no longer matches the topics, the lock
        released. Errors are logged: nobody is left to raise them to."""
        task = self.task
        try:
            if task is not None:
                if checkpoint and task.initialized and not task.closed:
                    self._flush_state()  # Kafka 4.x flushes and checkpoints at close too (KAFKA-18168)
                task.close()
            if wipe:
                wipe_task_dir(self.task_dir)
        except Exception:
            log.exception("%s: closing the global stores failed", self.name)
        finally:
            consumer, self.consumer = self.consumer, None
            if consumer is not None:
                try:
                    consumer.close()
                except Exception:
                    log.exception("%s: closing the global consumer failed", self.name)
            self.lock.unlock()

    def close(self) -> None:
        """Stop the global thread and wait for it to close the global stores (the thread releases their lock)."""
        with self._start_lock:
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(CLOSE_WAIT_S)
            if thread.is_alive():
                log.error("%s did not stop within %d s: it closes the global stores when it does", self.name,
                          CLOSE_WAIT_S)
                return
        if thread is None or not thread.is_alive():
            self.lock.unlock()  # start() failed before the thread ran (it releases the lock itself otherwise)
