"""Interactive queries on session stores (Kafka's QueryableStoreTypes.sessionStore() and
CompositeReadOnlySessionStore): one read-only view over the same session store in every local task, for a
`windowed_by(SessionWindows)` aggregate.

A key lives in one partition, so the key lookups answer from the first task whose store has sessions of the key;
results are (Windowed(key, SessionWindow(start, end)), value) pairs, oldest session first (backward_*: newest
first), as Kafka's ReadOnlySessionStore returns them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pystreams.errors import PystreamsError
from pystreams.runtime.composite_view import CompositeView
from pystreams.state.api import KeyValueIterator
from pystreams.state.session.layers import MeteredSessionStore

LONG_MAX = (1 << 63) - 1
_ONE_KEY = object()  # fetch(key) rather than fetch(key_from, key_to), where key_to may be None (open end)


class CompositeReadOnlySessionStore(CompositeView):
    """ReadOnlySessionStore over the local tasks' session stores: fetch, find_sessions, fetch_session, for one
    key or (Kafka's other overloads) a key range. The key-range reads use the metered store's key serde and its
    bytes store's key-range find_sessions (MeteredSessionStore._raw_key / _sessions / wrapped)."""

    def _first(self, call: Callable[[Any], Any]) -> KeyValueIterator:
        for store in self._all_stores():
            pairs = list(call(store))
            if pairs:
                return KeyValueIterator(iter(pairs))
        return KeyValueIterator(iter(()))

    def fetch(self, key: Any, key_to: Any = _ONE_KEY) -> KeyValueIterator:
        """Every session of key (Kafka's fetch(key)), oldest first; fetch(key_from, key_to): every session of the
        keys in [key_from, key_to] by serialized key (None: open end), each local store's in turn."""
        if key_to is not _ONE_KEY:
            return self._range(key, key_to, 0, LONG_MAX, True)
        _check_key(key)
        return self._first(lambda s: s.fetch(key))

    def backward_fetch(self, key: Any, key_to: Any = _ONE_KEY) -> KeyValueIterator:
        """Every session of key, newest first; backward_fetch(key_from, key_to) for a key range."""
        if key_to is not _ONE_KEY:
            return self._range(key, key_to, 0, LONG_MAX, False)
        _check_key(key)
        return self._first(lambda s: s.backward_fetch(key))

    def find_sessions(self, key: Any, *bounds: Any) -> KeyValueIterator:
        """find_sessions(key, earliest_session_end, latest_session_start): sessions of key that end at or after
        the first bound and start at or before the second; find_sessions(key_from, key_to, earliest_session_end,
        latest_session_start): the same for a key range (Kafka's two findSessions overloads)."""
        if len(bounds) == 3:
            return self._range(key, bounds[0], int(bounds[1]), int(bounds[2]), True)
        earliest_session_end, latest_session_start = _two_bounds(bounds)
        _check_key(key)
        return self._first(lambda s: s.find_sessions(key, earliest_session_end, latest_session_start))

    def backward_find_sessions(self, key: Any, *bounds: Any) -> KeyValueIterator:
        """find_sessions() newest first, for one key or (key_from, key_to, ...) a key range."""
        if len(bounds) == 3:
            return self._range(key, bounds[0], int(bounds[1]), int(bounds[2]), False)
        earliest_session_end, latest_session_start = _two_bounds(bounds)
        _check_key(key)
        return self._first(lambda s: s.backward_find_sessions(key, earliest_session_end, latest_session_start))

    def _range(self, key_from: Any, key_to: Any, earliest_end: int, latest_start: int,
               forward: bool) -> KeyValueIterator:
        """Sessions of the keys in [key_from, key_to] (serialized key order, None: open end) in every local store."""
        stores = self._all_stores()

        def pairs() -> Any:
            for store in stores:
                raw_from = None if key_from is None else store._raw_key(key_from)
                raw_to = None if key_to is None else store._raw_key(key_to)
                yield from store._sessions(store.wrapped.find_sessions(raw_from, raw_to, earliest_end, latest_start,
                                                                       forward))

        return KeyValueIterator(pairs())

    def fetch_session(self, key: Any, session_start: int, session_end: int) -> Any:
        """The value of key's session [start, end], or None."""
        _check_key(key)
        for store in self._all_stores():
            value = store.fetch_session(key, int(session_start), int(session_end))
            if value is not None:
                return value
        return None


def _two_bounds(bounds: tuple[Any, ...]) -> tuple[int, int]:
    if len(bounds) != 2:
        raise PystreamsError("find_sessions takes (key, earliest_session_end, latest_session_start) or (key_from, "
                             f"key_to, earliest_session_end, latest_session_start), got {1 + len(bounds)} arguments")
    return int(bounds[0]), int(bounds[1])


def _check_key(key: Any) -> None:
    if key is None:
        raise PystreamsError("session store queries need a key (None has no sessions)")


def session_view(name: str, stores: Callable[[], list[Any]], sample: list[Any],
                 unavailable: Callable[[str], Exception]) -> CompositeReadOnlySessionStore:
    """streams.store(name, QueryableStoreTypes.session_store()): checks the live stores are session stores."""
    if sample and not isinstance(sample[0], MeteredSessionStore):
        from pystreams.runtime.queries import StoreTypeMismatchError

        raise StoreTypeMismatchError(f"store {name} is a {type(sample[0]).__name__}, not a session_store")
    return CompositeReadOnlySessionStore(name, stores, unavailable)
