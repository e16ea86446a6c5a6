"""The session-store query view's key-range overloads (Kafka's ReadOnlySessionStore fetch(keyFrom, keyTo),
findSessions(keyFrom, keyTo, earliestSessionEndTime, latestSessionStartTime) and their backward forms) over two
local session stores, next to the one-key reads."""
from __future__ import annotations

import pytest

from pystreams.errors import PystreamsError
from pystreams.runtime.queries import InvalidStateStoreError
from pystreams.runtime.session_queries import CompositeReadOnlySessionStore
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.context import StateStoreContext
from pystreams.state.session import in_memory_session_store, session_store_builder

pytestmark = pytest.mark.unit


def _store(tmp_path, task: str, sessions: list[tuple[str, int, int, int]]):
    store = session_store_builder(in_memory_session_store("s", 1000), Serdes.String(), Serdes.Long()).build()
    store.init(StateStoreContext("app", task, str(tmp_path), changelog_sender=lambda *rec: None), store)
    for key, start, end, value in sessions:
        store.put(Windowed(key, SessionWindow(start, end)), value)
    return store


def _view(tmp_path) -> CompositeReadOnlySessionStore:
    first = _store(tmp_path, "0_0", [("a", 0, 10, 1), ("a", 20, 30, 2), ("c", 5, 6, 3)])
    second = _store(tmp_path, "0_1", [("b", 0, 40, 4), ("d", 100, 100, 5)])
    return CompositeReadOnlySessionStore("s", lambda: [first, second], lambda name: InvalidStateStoreError(name))


def _seen(pairs) -> list[tuple[str, int, int, int]]:
    return [(w.key, w.window.start, w.window.end, value) for w, value in pairs]


def test_key_range_fetch_reads_every_local_store(tmp_path):
    view = _view(tmp_path)
    assert _seen(view.fetch("a", "b")) == [("a", 0, 10, 1), ("a", 20, 30, 2), ("b", 0, 40, 4)]
    # open ends; within a store the order is the store's (the in-memory one: by session end, like Kafka's)
    assert sorted(_seen(view.fetch(None, None))) == [("a", 0, 10, 1), ("a", 20, 30, 2), ("b", 0, 40, 4),
                                                     ("c", 5, 6, 3), ("d", 100, 100, 5)]
    assert sorted(k for k, *_ in _seen(view.fetch("c", None))) == ["c", "d"]
    assert _seen(view.backward_fetch(None, "b")) == [("a", 20, 30, 2), ("a", 0, 10, 1), ("b", 0, 40, 4)]
    assert _seen(view.fetch("a")) == [("a", 0, 10, 1), ("a", 20, 30, 2)]  # the one-key form is unchanged


def test_key_range_find_sessions_applies_kafkas_bounds(tmp_path):
    view = _view(tmp_path)
    # sessions ending at or after 8 and starting at or before 20, keys a..c
    assert _seen(view.find_sessions("a", "c", 8, 20)) == [("a", 0, 10, 1), ("a", 20, 30, 2), ("b", 0, 40, 4)]
    assert _seen(view.backward_find_sessions("a", "c", 8, 20))[:2] == [("a", 20, 30, 2), ("a", 0, 10, 1)]
    assert _seen(view.find_sessions("a", 25, 40)) == [("a", 20, 30, 2)]
    with pytest.raises(PystreamsError, match="find_sessions takes"):
        view.find_sessions("a", 1)


def test_a_key_range_read_without_local_stores_is_unavailable(tmp_path):
    view = CompositeReadOnlySessionStore("s", list, lambda name: InvalidStateStoreError(f"{name}: retry"))
    with pytest.raises(InvalidStateStoreError, match="retry"):
        view.fetch("a", "b")
