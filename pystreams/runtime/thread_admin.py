"""Stream threads added and removed at run time, thread metadata, and close options (Kafka Streams' API).

KafkaStreams.add_stream_thread() / remove_stream_thread() (KIP-663): a thread gets the lowest index from 1 that no
live thread holds (`<client.id>-StreamThread-<n>`, as Kafka), and the client's record cache
(statestore.cache.max.bytes) is split again over the live threads plus the global thread, and each of them (the
global thread too) is resized to the new share, as Kafka's KafkaStreams.cacheSizePerThread / resizeThreadCache /
GlobalStreamThread.resize. A removed thread commits, closes its tasks and leaves the group (a static member too), so
the group rebalances its tasks onto the threads left (of this client or others). metadata_for_local_threads() is Kafka's
ThreadMetadata; CloseOptions is Kafka's close options. The functions here take the KafkaStreams client; its
methods delegate to them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pystreams.errors import ConfigError, PystreamsError
from pystreams.runtime.group.member_types import (
    GroupMembershipOperation,  # defined next to the member applying it
)

if TYPE_CHECKING:
    from pystreams.runtime.kafka_streams import KafkaStreams

log = logging.getLogger("pystreams.runtime")


class StreamsTimeoutError(PystreamsError):
    """Kafka's org.apache.kafka.common.errors.TimeoutException: e.g. a removed stream thread did not stop in time."""


# ---------------------------------------------------------------------------------------------- thread indexes
def live(thread: Any) -> bool:
    """A thread that holds its index: not started yet, or started and not finished (Kafka: not DEAD)."""
    if getattr(thread, "ident", 0) is None:  # threading.Thread: ident is set once started
        return True
    return bool(thread.is_alive())


def running(thread: Any) -> bool:
    """A live thread that was not asked to stop (Kafka: not PENDING_SHUTDOWN or DEAD); numLiveStreamThreads."""
    return live(thread) and bool(getattr(thread, "running", True))


#: Kafka numbers stream threads from 1: `<client.id>-StreamThread-1`, its clients `...-StreamThread-1-consumer`,
#: static member `<group.instance.id>-1`, transactional.id `<application.id>-<processId>-1`
FIRST_THREAD_INDEX = 1


def next_thread_index(threads: Iterable[Any]) -> int:
    """The lowest index from 1 that no live thread holds (Kafka's KafkaStreams.nextThreadIndex): a removed or
    finished thread's index is given out again, so thread names, static member ids and transactional ids stay
    the same set across removals and restarts."""
    taken = {t.index for t in threads if live(t)}
    index = FIRST_THREAD_INDEX
    while index in taken:
        index += 1
    return index


def cache_size_per_thread(total: int, threads: int, has_global: bool) -> int:
    """Kafka's cacheSizePerThread: the total split over the stream threads plus one share for the global thread
    when the topology has global stores; with no stream thread left, the whole total."""
    if threads <= 0:
        return total
    return total // (threads + (1 if has_global else 0))


def resize_thread_caches(threads: Iterable[Any], size: int) -> None:
    """Give every live thread `size` bytes of record cache (Kafka's resizeThreadCache). A thread with a
    resize_cache() applies it in its own loop; otherwise its cache's budget is set, and the next write evicts
    (flushing dirty entries) down to it."""
    for thread in threads:
        if not live(thread):
            continue
        resize = getattr(thread, "resize_cache", None)
        if callable(resize):
            resize(size)
            continue
        cache = getattr(thread, "_cache", None)
        if cache is not None:
            cache.max_bytes = size


def total_cache_bytes(streams: KafkaStreams) -> int:
    from pystreams.processor.internals.task import cache_max_bytes

    return cache_max_bytes(streams.config.originals)


def _has_global(streams: KafkaStreams) -> bool:
    return bool(streams.topology.global_subtopology_nodes())


def rebalance_caches(streams: KafkaStreams, threads: int | None = None) -> int:
    """Split the cache over `threads` stream threads (default: the running ones) and the global thread, and resize
    them all (Kafka's resizeThreadCache: each stream thread's resizeCache and the global thread's resize, so the
    shares never add up to more than statestore.cache.max.bytes); the size."""
    count = sum(1 for t in streams.threads if running(t)) if threads is None else threads
    size = cache_size_per_thread(total_cache_bytes(streams), count, _has_global(streams))
    resize_thread_caches(streams.threads, size)
    resize_global = getattr(getattr(streams, "global_state", None), "resize_cache", None)
    if callable(resize_global):  # applied by the global thread in its loop, as GlobalStreamThread.resize
        resize_global(size)
    return size


# ---------------------------------------------------------------------------------------------- add / remove
def add_stream_thread(streams: KafkaStreams) -> str | None:
    """Kafka's addStreamThread: only while RUNNING or REBALANCING (else None, with a warning); the new thread's
    name, or None when the client began shutting down meanwhile (the thread is then stopped again)."""
    from pystreams.runtime.stream_thread import StreamThread

    if not streams.state.is_running_or_rebalancing():
        log.warning("stream-client [%s] Cannot add a stream thread when the client is in state %s",
                    streams.client_id, streams.state.name)
        return None
    with streams._thread_count_lock:
        thread = streams._new_thread(StreamThread)
        with streams._state_lock:
            if streams.state.is_running_or_rebalancing():
                thread.start()
                log.info("stream-client [%s] added %s: %d live stream threads", streams.client_id, thread.name,
                         sum(1 for t in streams.threads if running(t)))
                return str(thread.name)
        log.warning("stream-client [%s] Terminating the new thread because the client is in state %s",
                    streams.client_id, streams.state.name)
        streams.threads.remove(thread)
        rebalance_caches(streams)
        return None


def remove_stream_thread(streams: KafkaStreams, timeout: float | timedelta | None = None) -> str | None:
    """Kafka's removeStreamThread: stop one running stream thread (the oldest), which commits, closes its tasks and
    leaves the group (the group gives its tasks to the other threads); wait up to timeout seconds (None: no limit)
    for it to stop. None when no thread can be removed or the client is not RUNNING/REBALANCING. The last thread
    may be removed (the client then processes nothing until a thread is added). A thread that does not stop in
    time raises StreamsTimeoutError; it stays counted (its index is not reused) until it has stopped."""
    seconds = seconds_of(timeout, "timeout")
    started = time.monotonic()
    if not streams.state.is_running_or_rebalancing():
        log.warning("stream-client [%s] Cannot remove a stream thread when the client is in state %s",
                    streams.client_id, streams.state.name)
        return None
    current = threading.current_thread()
    with streams._thread_count_lock:
        candidates = [t for t in list(streams.threads) if running(t)]
        # a stream thread may remove itself (from a callback) only when it is the last one, as in Kafka
        thread = next((t for t in candidates if t is not current or len(candidates) == 1), None)
        if thread is None:
            log.warning("stream-client [%s] There are no threads eligible for removal", streams.client_id)
            return None
        log.info("stream-client [%s] Removing stream thread %s", streams.client_id, thread.name)
        # it leaves the group, a static member too (LeaveGroup with its group.instance.id), as Kafka's
        # removeStreamThread (requestLeaveGroupDuringShutdown; 4.0 also removeMembersFromConsumerGroup): its tasks
        # move now, and its `<group.instance.id>-<index>` is free for the next added thread
        thread.leave_group_on_close = GroupMembershipOperation.LEAVE_GROUP
        if seconds != float("inf"):  # a commit the thread retries gives up in time (thread_commit._closing_by)
            thread.close_deadline = started + max(0.0, seconds)
        thread.shutdown()  # from now on it is not running: a concurrent add or remove leaves it alone
        rebalance_caches(streams)
    # joined without the lock: a thread failing in its close may call back into the client (e.g. to replace
    # itself or carry a shutdown request) and needs it; its index stays taken until it has stopped
    stopped = thread is not current and _join(thread, seconds - (time.monotonic() - started))
    if stopped:
        with streams._thread_count_lock:
            if thread in streams.threads:
                streams.threads.remove(thread)
        log.info("stream-client [%s] removed %s in %.0f ms", streams.client_id, thread.name,
                 (time.monotonic() - started) * 1000)
    elif thread is not current:
        log.warning("stream-client [%s] %s did not shut down in the allotted time", streams.client_id, thread.name)
        raise StreamsTimeoutError(f"Thread {thread.name} did not stop in the allotted time")
    return str(thread.name)


def _join(thread: Any, seconds: float) -> bool:
    if seconds <= 0:
        return not thread.is_alive()
    thread.join(None if seconds == float("inf") else seconds)
    return not thread.is_alive()


def seconds_of(value: float | timedelta | None, name: str) -> float:
    """A timeout in seconds (a number or a timedelta; None: no limit); negative is refused, as Kafka's
    "Timeout can't be negative."."""
    if value is None:
        return float("inf")
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number of seconds or a timedelta, got {value!r}")
    if value < 0:
        raise ConfigError(f"{name.capitalize()} can't be negative, got {value}")
    return float(value)


# ---------------------------------------------------------------------------------------------- metadata
@dataclass(frozen=True)
class TaskMetadata:
    """Kafka's TaskMetadata: one task of a local thread, its input partitions and last committed offsets."""

    task_id: Any  # pystreams.processor.task_id.TaskId; str() is Kafka's "<subtopology>_<partition>"
    topic_partitions: frozenset[tuple[str, int]]
    committed_offsets: dict[tuple[str, int], int] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ThreadMetadata:
    """Kafka's ThreadMetadata: what a local stream thread runs and which clients it uses (for operators)."""

    thread_name: str
    thread_state: str  # Kafka's StreamThread.State name: CREATED, STARTING, PARTITIONS_ASSIGNED, RUNNING, ...
    consumer_client_id: str
    restore_consumer_client_id: str
    producer_client_ids: frozenset[str]
    admin_client_id: str
    active_tasks: frozenset[TaskMetadata]
    standby_tasks: frozenset[TaskMetadata]


def thread_state(thread: Any) -> str:
    """Kafka's StreamThread.State name, derived from the thread: CREATED (not started), STARTING (no assignment
    yet), PARTITIONS_ASSIGNED (restoring new tasks after a rebalance), RUNNING, PENDING_SHUTDOWN, DEAD."""
    if getattr(thread, "ident", 0) is None:
        return "CREATED"
    if not thread.is_alive():
        return "DEAD"
    if not getattr(thread, "running", True):
        return "PENDING_SHUTDOWN"
    if not getattr(thread, "assigned_once", False):
        return "STARTING"
    if getattr(thread, "rebalancing", False):
        return "PARTITIONS_ASSIGNED"
    return "RUNNING"


def _copy(items: Any) -> list[Any]:
    """A snapshot of a dict's items that the stream thread may be changing (retried when it changed meanwhile)."""
    for _ in range(10):
        try:
            return list(items())
        except RuntimeError:  # dictionary changed size during iteration
            continue
    return []


def _active_tasks(thread: Any) -> frozenset[TaskMetadata]:
    by_task: dict[Any, set[tuple[str, int]]] = {}
    for tp, at in _copy(getattr(thread, "by_partition", {}).items):
        by_task.setdefault(at.id, set()).add(tp)
    out = {TaskMetadata(task_id, frozenset(by_task.get(task_id, ())), dict(at.committed_offsets))
           for task_id, at in _copy(getattr(thread, "tasks", {}).items)}
    restorer = getattr(thread, "_restorer", None)
    for task_id, rt in _copy(getattr(restorer, "restoring", {}).items):  # restoring tasks are active tasks too
        out.add(TaskMetadata(task_id, frozenset(getattr(rt, "partitions", ())), {}))
    return frozenset(out)


def _standby_tasks(thread: Any) -> frozenset[TaskMetadata]:
    standby = getattr(thread, "_standby", None)
    if standby is None:
        return frozenset()
    wanted = dict(_copy(getattr(standby, "_wanted", {}).items))
    return frozenset(TaskMetadata(task_id, frozenset(wanted.get(task_id, ())), {})
                     for task_id in standby.running_standbys())


def thread_metadata(streams: KafkaStreams, thread: Any) -> ThreadMetadata:
    """ThreadMetadata of one stream thread; client ids as the thread names its clients."""
    name = str(thread.name)
    # `<client.id>-admin` unless admin.client.id overrides it (the client KafkaStreams.start() made)
    admin_id = str(streams.config.admin_config(streams.client_id)["client.id"])
    return ThreadMetadata(name, thread_state(thread), f"{name}-consumer", f"{name}-restore-consumer",
                          frozenset({f"{name}-producer"}), admin_id, _active_tasks(thread), _standby_tasks(thread))


def metadata_for_local_threads(streams: KafkaStreams) -> set[ThreadMetadata]:
    """Kafka's metadataForLocalThreads: every stream thread of this client that has not finished."""
    return {thread_metadata(streams, t) for t in list(streams.threads) if thread_state(t) != "DEAD"}


# ---------------------------------------------------------------------------------------------- close options
@dataclass(frozen=True)
class CloseOptions:
    """Kafka's CloseOptions for KafkaStreams.close(options): how long to wait (seconds or a timedelta; None: no
    limit) and whether the members leave the group. `leave_group` is Kafka 4.0's KafkaStreams.CloseOptions flag
    (True = LEAVE_GROUP, False = REMAIN_IN_GROUP); `group_membership_operation` Kafka 4.2's; give one of them.
    LEAVE_GROUP: every member leaves at once, a static one too; REMAIN_IN_GROUP: none does (Kafka Streams 4.2's
    close()); DEFAULT (also a plain close()): dynamic members leave, static ones stay, the consumer's rule
    (docs/adr/0005-close-leaves-the-group.md)."""

    timeout: float | timedelta | None = None
    leave_group: bool | None = None
    group_membership_operation: GroupMembershipOperation = GroupMembershipOperation.DEFAULT

    def __post_init__(self) -> None:
        seconds_of(self.timeout, "timeout")
        if not isinstance(self.group_membership_operation, GroupMembershipOperation):
            raise ConfigError("group_membership_operation must be a GroupMembershipOperation, got "
                              f"{self.group_membership_operation!r}")
        if self.leave_group is not None and self.group_membership_operation is not GroupMembershipOperation.DEFAULT:
            raise ConfigError("CloseOptions: give leave_group or group_membership_operation, not both")

    def with_timeout(self, timeout: float | timedelta | None) -> CloseOptions:
        """A copy with another timeout (Kafka's fluent withTimeout)."""
        return replace(self, timeout=timeout)

    def with_group_membership_operation(self, operation: GroupMembershipOperation) -> CloseOptions:
        """A copy with another group membership operation (Kafka's withGroupMembershipOperation)."""
        return replace(self, leave_group=None, group_membership_operation=operation)

    @property
    def operation(self) -> GroupMembershipOperation:
        """The membership operation in effect (leave_group translated)."""
        if self.leave_group is None:
            return self.group_membership_operation
        return GroupMembershipOperation.LEAVE_GROUP if self.leave_group else GroupMembershipOperation.REMAIN_IN_GROUP

    @property
    def seconds(self) -> float:
        return seconds_of(self.timeout, "timeout")
