"""The stream thread's side of KafkaStreams.pause()/resume() (KIP-834), resize of its record cache and
close(CloseOptions) (notes/s5/to-T-from-K.md), without clients: while the client is paused an iteration keeps the
membership, delivery reports and commits going but fetches and processes nothing; resume() wakes a paused wait at
once; a new cache budget is applied (evicting down to it) by the thread's own loop; a thread told to stay in the
group closes without a LeaveGroup. Pausing the whole client is the coarse form of the per-partition back-pressure
(buffered.records.per.partition) next to it."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime import stream_thread
from pystreams.runtime.stream_thread import ThreadMetrics
from pystreams.state.internals.cache import CacheEntry, ThreadCache
from tests.unit.runtime.support import bare_stream_thread

pytestmark = pytest.mark.unit


def _thread(monkeypatch: pytest.MonkeyPatch, paused: bool, commit_interval_ms: int = 60_000) -> Any:
    events: list[str] = []
    monkeypatch.setattr(stream_thread, "poll_group", lambda thread: events.append("poll_group"))
    monkeypatch.setattr(stream_thread, "poll_records", lambda *a: events.append("poll_records") or [])
    monkeypatch.setattr(stream_thread, "process_tasks", lambda *a: events.append("process_tasks"))
    thread = bare_stream_thread(eos=False, **{"commit.interval.ms": commit_interval_ms, "poll.ms": 2000})
    thread.events = events
    thread.streams = SimpleNamespace(is_paused=lambda: paused)
    thread._group = SimpleNamespace(member=SimpleNamespace(rejoin_needed=False))
    thread._rejoin_pending = False
    thread._consumer = SimpleNamespace()
    thread._restorer = None
    thread._standby = None
    thread._resume_signal = threading.Event()
    thread._collector = SimpleNamespace(poll=lambda: events.append("delivery reports"),
                                        check=lambda: events.append("check"))
    thread.tasks, thread.by_partition = {"0_0": object()}, {}
    thread.metrics = ThreadMetrics()
    thread._commit = lambda final=False: events.append("commit")
    return thread


def test_a_paused_iteration_keeps_membership_and_commits_but_fetches_nothing(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    thread = _thread(monkeypatch, paused=True, commit_interval_ms=0)
    thread._resume_signal.set()  # do not wait out poll.ms here
    last_commit = [0.0]
    thread._iteration(last_commit)
    assert thread.events == ["poll_group", "delivery reports", "check", "commit"]
    assert last_commit[0] > 0.0 and not thread._resume_signal.is_set()  # cleared for the next wait


def test_not_paused_runs_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, paused=False)
    monkeypatch.setattr(thread.metrics, "refresh_lag", lambda *a: None)
    thread._iteration([time.monotonic()])
    assert thread.events[:3] == ["poll_group", "poll_records", "process_tasks"]


def test_resume_wakes_a_paused_wait_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, paused=True)
    timer = threading.Timer(0.1, thread.signal_resume)
    started = time.monotonic()
    timer.start()
    thread._iteration([time.monotonic()])  # poll.ms is 2 s
    assert time.monotonic() - started < 1.5
    assert "commit" not in thread.events  # commit.interval.ms not due


def test_a_cache_resize_is_applied_by_the_loop_evicting_down_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, paused=True)
    thread._resume_signal.set()
    cache = thread._cache = ThreadCache(1 << 20)
    flushed: list[bytes] = []
    for ns in ("0_0-a", "0_1-b"):
        cache.add_dirty_entry_flush_listener(ns, lambda entries: flushed.extend(k for k, _e in entries))
        for i in range(50):
            cache.put(ns, b"k%03d" % i, CacheEntry(b"v" * 100, dirty=True))
    before = cache.total
    thread.resize_cache(before // 4)
    assert cache.max_bytes == 1 << 20  # not from the caller's thread
    thread._iteration([time.monotonic()])
    assert cache.max_bytes == before // 4 and cache.total <= before // 4
    assert flushed and thread._cache_resize is None  # dirty entries evicted were flushed, once


def test_close_remains_in_the_group_when_told_to(monkeypatch: pytest.MonkeyPatch) -> None:
    for leave in (True, False):
        thread = _thread(monkeypatch, paused=False)
        left: list[bool] = []
        thread._group = SimpleNamespace(close=lambda leave, got=left: got.append(leave))
        thread.tasks = {}
        thread._restore_consumer = None
        thread._collector = None
        if not leave:
            thread.leave_group_on_close = False
        monkeypatch.setattr(thread, "_close_tasks", lambda clean: None)
        thread._close(clean=True)
        assert left == [leave]
