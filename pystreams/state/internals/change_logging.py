"""Change-logging layers (Kafka's ChangeLoggingKeyValueBytesStore and its timestamped variant).

Every write goes to the wrapped store and, as (key bytes, value bytes or None for a delete, timestamp), to the
context's log_change, which sends it to `<application.id>-<store>-changelog` on the task's partition.
"""
from __future__ import annotations

from typing import Any, Iterable

from pystreams.state.internals.bytes_store import FlushedWrite, WrappedBytesStore, write_flushed
from pystreams.state.internals.timestamped import _TS


class ChangeLoggingKeyValueBytesStore(WrappedBytesStore):
    """Logs (key, value, record timestamp) for every put/delete."""

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._context: Any = None

    def init(self, context: Any, root: Any) -> None:
        self.wrapped.init(context, root)
        self._context = context

    def _log(self, key: bytes, value: bytes | None) -> None:
        self._log_at(key, value, self._context.record_context.timestamp)

    def _log_at(self, key: bytes, value: bytes | None, timestamp: int) -> None:
        self._context.log_change(self.name, key, value, timestamp)

    def write_flushed(self, entries: list[FlushedWrite]) -> None:
        """A cache flush: each entry is logged with its record's timestamp, then the storage writes them as one
        batch (the order of Quix Streams' commit: changelog records first, then the state)."""
        log = self._log_at
        for key, value, timestamp in entries:
            log(key, value, timestamp)
        write_flushed(self.wrapped, entries)

    def put(self, key: bytes, value: bytes | None) -> None:
        self.wrapped.put(key, value)
        self._log(key, value)

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        previous = self.wrapped.put_if_absent(key, value)
        if previous is None:
            self._log(key, value)
        return previous  # type: ignore[no-any-return]

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        entries = list(entries)
        self.wrapped.put_all(entries)
        for key, value in entries:
            self._log(key, value)

    def delete(self, key: bytes) -> bytes | None:
        old = self.wrapped.delete(key)
        self._log(key, None)
        return old  # type: ignore[no-any-return]


class ChangeLoggingTimestampedKeyValueBytesStore(ChangeLoggingKeyValueBytesStore):
    """Stores `timestamp(8) + value`, logs the plain value with the stored timestamp as record timestamp."""

    def _log_at(self, key: bytes, value: bytes | None, timestamp: int) -> None:
        if value is None:
            self._context.log_change(self.name, key, None, timestamp)
        else:
            self._context.log_change(self.name, key, value[8:], _TS.unpack_from(value)[0])

    def write_flushed(self, entries: list[FlushedWrite]) -> None:
        """As the base class' (each entry logged by _log_at, then one batch), with _log_at inlined and the store
        name and log_change looked up once per flush instead of once per entry."""
        if type(self)._log_at is not ChangeLoggingTimestampedKeyValueBytesStore._log_at:
            super().write_flushed(entries)  # a subclass logs its own way
            return
        log_change = self._context.log_change
        name = self.name
        unpack = _TS.unpack_from
        for key, value, timestamp in entries:
            if value is None:
                log_change(name, key, None, timestamp)
            else:
                log_change(name, key, value[8:], unpack(value)[0])
        write_flushed(self.wrapped, entries)
