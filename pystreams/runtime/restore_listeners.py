"""Kafka Streams' restore listeners: StateRestoreListener (active task restore and global store bootstrap; KIP-869's
on_restore_suspended) and StandbyUpdateListener (KIP-988), set on a KafkaStreams before start().

The runtime calls them through the Delegating* wrappers KafkaStreams keeps (Kafka's KafkaStreams.
DelegatingStateRestoreListener / DelegatingStandbyUpdateListener): no listener costs one attribute check, and an
exception a user listener raises becomes Kafka's StreamsException("Fatal user code error in store restore listener
for store <store>, partition <topic-partition>.") with the user's error as its __cause__, which fails the stream
thread (its uncaught-exception handler decides) or, while start() bootstraps global stores, start() itself.
Each call runs on the thread doing the work, as in Kafka: a stream thread for its tasks' restores, the global thread
(`<client.id>-GlobalStreamThread`) for the global stores' bootstrap, whose error start() raises on its caller.
"""
from __future__ import annotations

import enum
from typing import Any, NamedTuple

from pystreams.errors import ConfigError
from pystreams.processor.errors import StreamsException
from pystreams.processor.task_id import TaskId


class TopicPartition(NamedTuple):
    """A changelog (or global topic) partition, as Kafka's listeners get it: `.topic`, `.partition`; equal to the
    (topic, partition) tuples pystreams uses elsewhere."""

    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


class StateRestoreListener:
    """Kafka's StateRestoreListener: subclass it (or give any object with these methods) to watch stores being
    restored before their task runs, e.g. to report progress. Shared by all stream threads and the global
    thread: keep it stateless, or synchronize."""

    def on_restore_start(self, topic_partition: TopicPartition, store_name: str, starting_offset: int,
                         ending_offset: int) -> None:
        """A changelog partition starts restoring at starting_offset, up to ending_offset (exclusive)."""

    def on_batch_restored(self, topic_partition: TopicPartition, store_name: str, batch_end_offset: int,
                          num_restored: int) -> None:
        """One batch went into the store: num_restored records, up to batch_end_offset (inclusive). Keep it
        cheap: it holds the next batch up."""

    def on_restore_end(self, topic_partition: TopicPartition, store_name: str, total_restored: int) -> None:
        """The changelog partition reached its end offset: total_restored records in all."""

    def on_restore_suspended(self, topic_partition: TopicPartition, store_name: str, total_restored: int) -> None:
        """Restoring stopped before the end (KIP-869): the task moved away, was closed, or was found corrupted
        (wiped, then on_restore_start again from the beginning)."""


class SuspendReason(enum.Enum):
    """Why a standby stopped updating (Kafka's StandbyUpdateListener.SuspendReason)."""

    MIGRATED = "MIGRATED"
    PROMOTED = "PROMOTED"


class StandbyUpdateListener:
    """Kafka's StandbyUpdateListener (KIP-988): watch standby replicas follow their changelogs."""

    def on_update_start(self, topic_partition: TopicPartition, store_name: str, starting_offset: int) -> None:
        """A standby's changelog partition starts being followed from starting_offset (before any record)."""

    def on_batch_loaded(self, topic_partition: TopicPartition, store_name: str, task_id: TaskId,
                        batch_end_offset: int, batch_size: int, current_end_offset: int) -> None:
        """batch_size records went into the standby's store, up to batch_end_offset (inclusive);
        current_end_offset is batch_end_offset plus the consumer's lag (Kafka's arithmetic: equal to
        batch_end_offset when the standby is caught up)."""

    def on_update_suspended(self, topic_partition: TopicPartition, store_name: str, store_offset: int,
                            current_end_offset: int, reason: SuspendReason) -> None:
        """The standby stopped: PROMOTED (it becomes the active task here, called before its on_restore_start) or
        MIGRATED (closed: moved away or the client closes). store_offset: the last changelog offset in the store;
        -1 when unknown, like current_end_offset."""


_RESTORE_METHODS = ("on_restore_start", "on_batch_restored", "on_restore_end")
_STANDBY_METHODS = ("on_update_start", "on_batch_loaded", "on_update_suspended")


def _check(listener: Any, methods: tuple[str, ...], kind: str) -> None:
    missing = [m for m in methods if not callable(getattr(listener, m, None))]
    if missing:
        raise ConfigError(f"a {kind} needs the methods {', '.join(methods)}; {type(listener).__name__} has no "
                          f"{', '.join(missing)} (subclass pystreams.{kind})")


def _fatal(kind: str, store: str, tp: Any) -> StreamsException:
    return StreamsException(f"Fatal user code error in {kind} for store {store}, partition {tp[0]}-{tp[1]}.")


class _Delegating:
    """A user listener as the runtime calls it: nothing when none is set, a method the listener lacks skipped (only
    Kafka's optional default methods can be: set() checks the others), the user's errors made fatal."""

    _methods: tuple[str, ...] = ()
    _kind = ""  # the listener type's name, in set()'s error
    _what = ""  # what failed, in Kafka's fatal error message

    def __init__(self) -> None:
        self.user: Any = None

    def set(self, listener: Any) -> None:
        if listener is not None:
            _check(listener, self._methods, self._kind)
        self.user = listener

    def __bool__(self) -> bool:
        return self.user is not None

    def _call(self, method: str, tp: tuple[str, int], store: str, *args: Any) -> None:
        user = self.user
        if user is None:
            return
        fn = getattr(user, method, None)
        if fn is None:  # on_restore_suspended is optional, as Kafka's default method
            return
        try:
            fn(TopicPartition(*tp), store, *args)
        except Exception as e:
            raise _fatal(self._what, store, tp) from e


class DelegatingStateRestoreListener(_Delegating):
    """The client's restore listener as the runtime calls it: the user's, if set, with its errors made fatal."""

    _methods, _kind, _what = _RESTORE_METHODS, "StateRestoreListener", "store restore listener"

    def on_restore_start(self, tp: tuple[str, int], store: str, starting_offset: int, ending_offset: int) -> None:
        self._call("on_restore_start", tp, store, starting_offset, ending_offset)

    def on_batch_restored(self, tp: tuple[str, int], store: str, batch_end_offset: int, num_restored: int) -> None:
        self._call("on_batch_restored", tp, store, batch_end_offset, num_restored)

    def on_restore_end(self, tp: tuple[str, int], store: str, total_restored: int) -> None:
        self._call("on_restore_end", tp, store, total_restored)

    def on_restore_suspended(self, tp: tuple[str, int], store: str, total_restored: int) -> None:
        self._call("on_restore_suspended", tp, store, total_restored)


class DelegatingStandbyUpdateListener(_Delegating):
    """The client's standby update listener as the runtime calls it, with the user's errors made fatal."""

    _methods, _kind, _what = _STANDBY_METHODS, "StandbyUpdateListener", "standby update listener"

    def on_update_start(self, tp: tuple[str, int], store: str, starting_offset: int) -> None:
        self._call("on_update_start", tp, store, starting_offset)

    def on_batch_loaded(self, tp: tuple[str, int], store: str, task_id: TaskId, batch_end_offset: int,
                        batch_size: int, current_end_offset: int) -> None:
        self._call("on_batch_loaded", tp, store, task_id, batch_end_offset, batch_size, current_end_offset)

    def on_update_suspended(self, tp: tuple[str, int], store: str, store_offset: int, current_end_offset: int,
                            reason: SuspendReason) -> None:
        self._call("on_update_suspended", tp, store, store_offset, current_end_offset, reason)


#: no listener: what a reader built without a client (unit tests, tools) calls
NO_RESTORE_LISTENER = DelegatingStateRestoreListener()
NO_STANDBY_LISTENER = DelegatingStandbyUpdateListener()
