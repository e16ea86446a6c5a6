"""Change-logging layers (Kafka's ChangeLoggingKeyValueBytesStore and its timestamped variant).

Every write goes to the wrapped store and, as (key bytes, value bytes or None for a delete, timestamp), to the
context's log_change, which sends it to `<application.id>-<store>-changelog` on the task's partition.
"""
from __future__ import annotations

from typing import Any, Iterable

from pystreams.state.internals.bytes_store import WrappedBytesStore
from pystreams.state.internals.timestamped import split_timestamped


class ChangeLoggingKeyValueBytesStore(WrappedBytesStore):
    """Logs (key, value, record timestamp) for every put/delete."""

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._context: Any = None

    def init(self, context: Any, root: Any) -> None:
        self.wrapped.init(context, root)
        self._context = context

    def _log(self, key: bytes, value: bytes | None) -> None:
        ctx = self._context
        ctx.log_change(self.name, key, value, ctx.record_context.timestamp)

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

    def _log(self, key: bytes, value: bytes | None) -> None:
        ctx = self._context
        if value is None:
            ctx.log_change(self.name, key, None, ctx.record_context.timestamp)
        else:
            raw, ts = split_timestamped(value)
            ctx.log_change(self.name, key, raw, ts)
