"""KIP-988's StandbyUpdateListener on a real broker (both), two instances with num.standby.replicas=1: the
instance holding the count task's standby reports on_update_start and on_batch_loaded (Kafka's current end offset:
equal to the batch's last offset once caught up); when the active instance closes, the standby is PROMOTED, and
that is reported before the new active task's on_restore_start, which restores only the tail."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pystreams import StandbyUpdateListener, StateRestoreListener
from pystreams.processor.task_id import TaskId
from pystreams.runtime import KafkaStreams, State, SuspendReason
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

STORE = "word-counts"
TASK = TaskId(1, 0)  # the count sub-topology (after the repartition topic) holds the store


class Both(StateRestoreListener, StandbyUpdateListener):
    """Restore and standby calls of one instance in one ordered list."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def _add(self, *event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def snapshot(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self.events)

    def on_restore_start(self, tp, store, start, end):
        self._add("restore_start", tuple(tp), store, start, end)

    def on_batch_restored(self, tp, store, batch_end, n):
        self._add("restore_batch", tuple(tp), store, batch_end, n)

    def on_restore_end(self, tp, store, total):
        self._add("restore_end", tuple(tp), store, total)

    def on_update_start(self, tp, store, start):
        self._add("update_start", tuple(tp), store, start)

    def on_batch_loaded(self, tp, store, task_id, batch_end, size, current_end):
        self._add("batch_loaded", tuple(tp), store, task_id, batch_end, size, current_end)

    def on_update_suspended(self, tp, store, store_offset, current_end, reason):
        self._add("update_suspended", tuple(tp), store, store_offset, current_end, reason)


def _has(app: KafkaStreams, standby: bool) -> bool:
    for thread in app.threads:
        if standby and thread._standby is not None and TASK in thread._standby.tasks:
            return True
        if not standby and TASK in thread.tasks:
            return True
    return False


def _wait(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_standby_updates_are_reported_and_a_promotion_precedes_the_restore(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("sbl"), unique("text"), unique("counts")
    create_topics(bootstrap, 1, source, sink)
    listeners = [Both(), Both()]
    apps = []
    for i, listener in enumerate(listeners):
        app = KafkaStreams(wordcount_topology(source, sink, STORE), {
            "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
            "num.standby.replicas": 1, "commit.interval.ms": 100, "consumer.session.timeout.ms": 10000,
            "probing.rebalance.interval.ms": 60000})
        app.set_global_state_restore_listener(listener)
        app.set_standby_update_listener(listener)
        apps.append(app)
    changelog = (f"{app_id}-{STORE}-changelog", 0)
    try:
        for app in apps:
            app.start()
        _wait(lambda: all(a.state is State.RUNNING for a in apps) and any(_has(a, False) for a in apps)
              and any(_has(a, True) for a in apps), "one instance runs the count task, the other its standby")
        active = next(i for i, a in enumerate(apps) if _has(a, False))
        keeper = 1 - active
        lines = random_lines(11, 100)
        produce_lines(bootstrap, source, lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        mine = listeners[keeper]
        _wait(lambda: any(e[0] == "batch_loaded" and e[6] == e[4] for e in mine.snapshot()),
              "the standby catches up with the changelog")
        assert apps[active].close(60)
        _wait(lambda: _has(apps[keeper], False) and apps[keeper].state is State.RUNNING,
              "the standby's instance runs the task")
    finally:
        for app in apps:
            app.close(60)
    events = [e for e in listeners[keeper].snapshot() if e[1] == changelog]
    kinds = [e[0] for e in events]
    # (an instance that ran the task alone before the other joined reported that restore first)
    events = events[kinds.index("update_start"):]
    kinds = [e[0] for e in events]
    loaded = [e for e in events if e[0] == "batch_loaded"]
    assert loaded and all(e[2] == STORE and e[3] == TASK and e[5] > 0 and e[6] >= e[4] for e in loaded)
    promoted = kinds.index("update_suspended")
    assert events[promoted][-1] is SuspendReason.PROMOTED
    assert events[promoted][3] == loaded[-1][4]  # the store's offset: the last changelog offset applied
    start = kinds.index("restore_start", promoted)  # the active task's restore starts after the promotion
    assert events[start][3] == loaded[-1][4] + 1  # from the standby's checkpoint: only the tail is restored
    assert kinds[-1] == "restore_end"
