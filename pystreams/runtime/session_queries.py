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


class CompositeReadOnlySessionStore(CompositeView):
    """ReadOnlySessionStore over the local tasks' session stores: fetch, find_sessions, fetch_session."""

    def _first(self, call: Callable[[Any], Any]) -> KeyValueIterator:
        for store in self._all_stores():
            pairs = list(call(store))
            if pairs:
                return KeyValueIterator(iter(pairs))
        return KeyValueIterator(iter(()))

    def fetch(self, key: Any) -> KeyValueIterator:
        """Every session of key (Kafka's fetch(key)), oldest first."""
        _check_key(key)
        return self._first(lambda s: s.fetch(key))

    def backward_fetch(self, key: Any) -> KeyValueIterator:
        """Every session of key, newest first."""
        _check_key(key)
        return self._first(lambda s: s.backward_fetch(key))

    def find_sessions(self, key: Any, earliest_session_end: int, latest_session_start: int) -> KeyValueIterator:
        """Sessions of key that end at or after earliest_session_end and start at or before latest_session_start."""
        _check_key(key)
        return self._first(lambda s: s.find_sessions(key, int(earliest_session_end), int(latest_session_start)))

    def backward_find_sessions(self, key: Any, earliest_session_end: int,
                               latest_session_start: int) -> KeyValueIterator:
        _check_key(key)
        return self._first(lambda s: s.backward_find_sessions(key, int(earliest_session_end),
                                                              int(latest_session_start)))

    def fetch_session(self, key: Any, session_start: int, session_end: int) -> Any:
        """The value of key's session [start, end], or None."""
        _check_key(key)
        for store in self._all_stores():
            value = store.fetch_session(key, int(session_start), int(session_end))
            if value is not None:
                return value
        return None


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
