"""Change-logging window layers (Kafka's ChangeLoggingWindowBytesStore and its timestamped variant).

Changelog record key = key + 8-byte window start + 4-byte seqnum (0 unless the store retains duplicates),
value = the stored value (timestamped stores: the plain value, with the stored timestamp as record timestamp).
"""
from __future__ import annotations

from functools import partial
from typing import Any, Iterator

from pystreams.state.internals.bytes_store import FlushedWrite
from pystreams.state.internals.timestamped import _TS
from pystreams.state.window.keys import next_seqnum, split_store_key, to_store_key


class ChangeLoggingWindowBytesStore:
    """Writes through to the wrapped bytes window store and logs every put."""

    _timestamped = False  # logged values are the stored ones

    def __init__(self, wrapped: Any, retain_duplicates: bool) -> None:
        self.wrapped = wrapped
        self.retain_duplicates = retain_duplicates
        self._seqnum = 0
        self._context: Any = None

    def __getattr__(self, item: str) -> Any:  # reads (fetch*, all, name, flush...) pass through
        return getattr(self.wrapped, item)

    def init(self, context: Any, root: Any) -> None:
        self.wrapped.init(context, root)
        self._context = context

    def innermost(self) -> Any:
        inner = self.wrapped
        while hasattr(inner, "wrapped"):
            inner = inner.wrapped
        return inner

    def put(self, key: bytes, value: bytes | None, window_start: int) -> None:
        self.wrapped.put(key, value, window_start)
        if self.retain_duplicates:
            self._seqnum = next_seqnum(self._seqnum)
        self._log(to_store_key(key, window_start, self._seqnum), value)

    def write_flushed(self, entries: list[FlushedWrite]) -> None:
        """A cache flush of (store key, value, record timestamp): each entry is logged, then the store writes
        them as one batch when it can (the caching layer is never used with retained duplicates: seqnum 0)."""
        self._log_flushed(entries)
        self._write_flushed_to_store(entries)

    def _write_flushed_to_store(self, entries: list[FlushedWrite]) -> None:
        """The store's own batch write of a flush when it has one, else put() entry by entry."""
        batch = getattr(self.wrapped, "write_flushed", None)
        if batch is not None:
            batch(entries)
            return
        put = self.wrapped.put
        for store_key, value, _ts in entries:
            key, start, _seq = split_store_key(store_key)
            put(key, value, start)

    def write_flushed_entries(self, store_keys: list[bytes], entries: list[tuple[bytes, Any]]) -> None:
        """write_flushed() of a cache flush as the cache hands it over: the store keys and the (cache key, cache
        entry) pairs, without a (key, value, timestamp) tuple per entry."""
        send = self._flush_sender()
        direct = _direct_changelog(send)
        if direct is not None and self._timestamped:
            self._produce_timestamped(direct, send, store_keys, entries)
        elif self._timestamped:
            timestamp_of = _TS.unpack_from
            for store_key, (_ck, entry) in zip(store_keys, entries):
                value = entry.value
                if value is None:
                    send(store_key, None, (), entry.timestamp)
                else:
                    send(store_key, value[8:], (), timestamp_of(value)[0])
        else:
            for store_key, (_ck, entry) in zip(store_keys, entries):
                send(store_key, entry.value, (), entry.timestamp)
        write_entries = getattr(self.wrapped, "write_flushed_entries", None)
        if write_entries is not None:
            write_entries(store_keys, entries)
            return
        self._write_flushed_to_store([(key, entry.value, entry.timestamp)
                                      for key, (_ck, entry) in zip(store_keys, entries)])

    @staticmethod
    def _produce_timestamped(direct: tuple[Any, Any, str, int], send: Any, store_keys: list[bytes],
                             entries: list[tuple[bytes, Any]]) -> None:
        """The changelog records of a timestamped store's flush straight into the producer (the same records as
        send() one by one: plain value, stored timestamp, no headers), counted once at the end; a record the
        producer refuses goes through send(), which handles it as usual."""
        produce, collector, topic, partition = direct
        timestamp_of = _TS.unpack_from
        produced = 0
        try:
            for store_key, (_ck, entry) in zip(store_keys, entries):
                value = entry.value
                if value is None:
                    plain, timestamp = None, entry.timestamp
                else:
                    plain, timestamp = value[8:], timestamp_of(value)[0]
                try:
                    produce(topic, plain, store_key, partition, None, None, timestamp, None)
                    produced += 1
                except Exception:  # noqa: BLE001 - send() retries it and answers or raises as for any record
                    send(store_key, plain, (), timestamp)
        finally:
            collector.add_sent(topic, partition, produced)

    def _flush_sender(self) -> Any:
        """send(key, value, headers, timestamp) for this store's changelog: the context's sender with topic and
        partition bound (one call per flushed entry), else log_change (contexts without one, e.g. test doubles)."""
        bind = getattr(self._context, "changelog_sender", None)
        if bind is not None:
            return bind(self.wrapped.name)
        log, name = self._context.log_change, self.wrapped.name
        return lambda key, value, headers, timestamp: log(name, key, value, timestamp, headers)

    def _log_flushed(self, entries: list[FlushedWrite]) -> None:
        """Log every entry of a cache flush, each with its own record timestamp."""
        log, name = self._context.log_change, self.wrapped.name
        for store_key, value, timestamp in entries:
            log(name, store_key, value, timestamp)

    def _log(self, store_key: bytes, value: bytes | None) -> None:
        self._log_at(store_key, value, self._context.record_context.timestamp)

    def _log_at(self, store_key: bytes, value: bytes | None, timestamp: int) -> None:
        self._context.log_change(self.wrapped.name, store_key, value, timestamp)

    def fetch(self, key: bytes, window_start: int) -> bytes | None:
        """A read (the aggregate's cache misses): straight to the wrapped store, not through __getattr__."""
        return self.wrapped.fetch(key, window_start)  # type: ignore[no-any-return]

    def fetch_range(self, key: bytes, time_from: int, time_to: int, forward: bool = True) -> Iterator[Any]:
        return self.wrapped.fetch_range(key, time_from, time_to, forward)  # type: ignore[no-any-return]


def _direct_changelog(send: Any) -> tuple[Any, Any, str, int] | None:
    """(produce, collector, topic, partition) when send is the context's changelog sender bound to a record
    collector's send() (partial(collector.send, topic, partition=p)) and that collector hands out its producer for
    batches (KafkaRecordCollector.batch_producer); None: send record by record."""
    if type(send) is not partial or len(send.args) != 1 or list(send.keywords) != ["partition"]:
        return None
    collector = getattr(send.func, "__self__", None)
    if getattr(collector, "send", None) != send.func:
        return None
    batch_producer = getattr(collector, "batch_producer", None)
    if batch_producer is None or not callable(getattr(collector, "add_sent", None)):
        return None
    produce = batch_producer()
    partition = send.keywords["partition"]
    if produce is None or type(partition) is not int or type(send.args[0]) is not str:
        return None
    return produce, collector, send.args[0], partition


class ChangeLoggingTimestampedWindowBytesStore(ChangeLoggingWindowBytesStore):
    """Stored value = timestamp(8) + value; logged value = the plain value, record timestamp = stored one."""

    _timestamped = True

    def _log_at(self, store_key: bytes, value: bytes | None, timestamp: int) -> None:
        if value is None:
            self._context.log_change(self.wrapped.name, store_key, None, timestamp)
        else:
            self._context.log_change(self.wrapped.name, store_key, value[8:], _TS.unpack_from(value)[0])

    def _log_flushed(self, entries: list[FlushedWrite]) -> None:
        log, name, timestamp_of = self._context.log_change, self.wrapped.name, _TS.unpack_from
        for store_key, value, timestamp in entries:
            if value is None:
                log(name, store_key, None, timestamp)
            else:
                log(name, store_key, value[8:], timestamp_of(value)[0])
