"""Change-logging window layers (Kafka's ChangeLoggingWindowBytesStore and its timestamped variant).

Changelog record key = key + 8-byte window start + 4-byte seqnum (0 unless the store retains duplicates),
value = the stored value (timestamped stores: the plain value, with the stored timestamp as record timestamp).
"""
from __future__ import annotations

from typing import Any, Iterator

from pystreams.state.internals.timestamped import split_timestamped
from pystreams.state.window.keys import next_seqnum, to_store_key


class ChangeLoggingWindowBytesStore:
    """Writes through to the wrapped bytes window store and logs every put."""

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

    def _log(self, store_key: bytes, value: bytes | None) -> None:
        ctx = self._context
        ctx.log_change(self.wrapped.name, store_key, value, ctx.record_context.timestamp)

    def fetch_range(self, key: bytes, time_from: int, time_to: int, forward: bool = True) -> Iterator[Any]:
        return self.wrapped.fetch_range(key, time_from, time_to, forward)  # type: ignore[no-any-return]


class ChangeLoggingTimestampedWindowBytesStore(ChangeLoggingWindowBytesStore):
    """Stored value = timestamp(8) + value; logged value = the plain value, record timestamp = stored one."""

    def _log(self, store_key: bytes, value: bytes | None) -> None:
        ctx = self._context
        if value is None:
            ctx.log_change(self.wrapped.name, store_key, None, ctx.record_context.timestamp)
        else:
            raw, ts = split_timestamped(value)
            ctx.log_change(self.wrapped.name, store_key, raw, ts)
