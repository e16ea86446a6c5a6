"""How KTable processors read/write their timestamped store and forward Changes (with or without caching).

Kafka's KeyValueStoreWrapper, TimestampedTupleForwarder and TimestampedCacheFlushListener: with caching on,
a processor writes the store and the store's cache forwards on flush (dedup per key); with caching off the
processor forwards itself, dropping the old value unless old values were requested.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import Change, ValueAndTimestamp, change, is_latest, make
from pystreams.errors import PystreamsError, StateStoreError
from pystreams.processor import ProcessorContext, Record
from pystreams.state import KeyValueStore, TimestampedKeyValueStore

LOG = logging.getLogger("pystreams.processors.stateful")

_NEW = object.__new__
_NEW_RECORD = tuple.__new__
_SET_NEW = Change.__dict__["new_value"].__set__
_SET_OLD = Change.__dict__["old_value"].__set__
_SET_LATEST = Change.__dict__["is_latest"].__set__


class TimestampedStore:
    """A processor's view of its timestamped key-value store: get -> ValueAndTimestamp, put(value, ts)."""

    def __init__(self, context: ProcessorContext[Any, Any], store_name: str) -> None:
        store = context.get_state_store(store_name)
        if store is None:
            raise StateStoreError(
                f"State store {store_name!r} is not available to this processor: connect it to the processor "
                "(Topology.add_state_store / connect_processor_and_state_stores)")
        plain_kv = isinstance(store, KeyValueStore) and not isinstance(store, TimestampedKeyValueStore)
        if plain_kv or not all(callable(getattr(store, m, None)) for m in ("get", "put")):
            raise StateStoreError(
                f"KTable state store {store_name!r} must be a TimestampedKeyValueStore (values are "
                f"ValueAndTimestamp), got {type(store).__name__}: build it with "
                "Stores.timestamped_key_value_store_builder")
        self.store = store
        self.name = store_name

    def get(self, key: Any) -> Any:
        """The ValueAndTimestamp stored for `key`, or None."""
        return self.store.get(key)

    def put(self, key: Any, value: Any, timestamp: int) -> None:
        """Store `value` with `timestamp`; a None value deletes the key (a tombstone through cache and changelog)."""
        self.store.put(key, make(value, timestamp))


class TimestampedTupleForwarder:
    """Forwards a processor's Changes itself only when its store has no cache (Kafka's TimestampedTupleForwarder)."""

    def __init__(self, store: Any, context: ProcessorContext[Any, Any], send_old_values: bool) -> None:
        self._context = context
        self._send_old_values = send_old_values
        listener = TimestampedCacheFlushListener(context)
        set_listener = getattr(store, "set_flush_listener", None)
        self.caching_enabled = bool(set_listener(listener, send_old_values)) if callable(set_listener) else False

    def maybe_forward(self, record: Record[Any, Any]) -> None:
        """Forward now unless the cache will forward on flush; old values only when they were asked for."""
        if self.caching_enabled:
            return
        if self._send_old_values:
            self._context.forward(record)
        else:
            value = record.value
            self._context.forward(record.with_value(change(value.new_value, None, is_latest(value))))


class TimestampedCacheFlushListener:
    """Called by the store's cache on flush with Change(new, old) of ValueAndTimestamps; forwards plain values.

    The forwarded record takes the new value's timestamp (the entry's record timestamp for a deletion), as Kafka.
    """

    def __init__(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context

    def __call__(self, record: Record[Any, Any]) -> None:
        value = record.value
        new, old = value.new_value, value.old_value
        timestamp = record.timestamp
        if isinstance(new, ValueAndTimestamp):
            timestamp = new.timestamp
            new = new.value
        if isinstance(old, ValueAndTimestamp):
            old = old.value
        # one new record (not with_value().with_timestamp(): two copies per flushed entry)
        self._context.forward(type(record)(record.key, change(new, old, is_latest(value)), timestamp, record.headers))

    apply = __call__

    def forward_plain(self, key: Any, new: Any, old: Any, timestamp: int, headers: Any) -> None:
        """What __call__ forwards for Record(key, Change(ValueAndTimestamp(new, timestamp) or None,
        ValueAndTimestamp(old, ...) or None), timestamp, headers), called by stores that take the flushed values
        apart themselves (MeteredTimestampedKeyValueStore.set_flush_listener). A subclass that changes __call__
        must change this too."""
        value = _NEW(Change)  # Change(new, old, True) without the frozen dataclass' __init__
        _SET_NEW(value, new)
        _SET_OLD(value, old)
        _SET_LATEST(value, True)
        self._context.forward(_NEW_RECORD(Record, (key, value, timestamp, headers)))


def direct_path(process: Callable[[Any], None], on_error: Callable[[Exception, Any], None]) -> Callable[[Any], None]:
    """A stateful processor's direct_process (see ProcessorRuntime.direct): process(record) with the node's
    error handling, for processors that forward only through context.forward (never the children directly)."""
    def run(record: Any) -> None:
        if type(record) is not Record:
            record = Record(record.key, record.value, record.timestamp, record.headers)
        try:
            process(record)
        except PystreamsError:
            raise
        except Exception as e:
            on_error(e, record)
    return run


def log_skipped(context: ProcessorContext[Any, Any], reason: str) -> None:
    """Kafka's warning for a skipped record, with topic/partition/offset when known."""
    metadata = context.record_metadata()
    if metadata is not None:
        LOG.warning("Skipping record due to %s. topic=[%s] partition=[%s] offset=[%s]",
                    reason, metadata.topic, metadata.partition, metadata.offset)
    else:
        LOG.warning("Skipping record due to %s. Topic, partition, and offset not known.", reason)


def record_dropped(context: ProcessorContext[Any, Any]) -> None:
    """Count a dropped record in the task's dropped-records sensor when the engine offers one."""
    metrics = getattr(context, "metrics", None)
    if metrics is None:
        return
    metrics = metrics() if callable(metrics) else metrics
    hook = getattr(metrics, "record_dropped", None)
    if callable(hook):
        hook()
