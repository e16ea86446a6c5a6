"""Cooperative rebalancing with pystreams' own group membership (pystreams.assignor=streams): when a second instance
joins, the first closes only the tasks that move; the tasks it keeps are never closed or re-created (the same task
objects keep running and processing), and the counts stay exact. On both brokers."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pystreams import KafkaStreams
from pystreams.runtime import task_manager
from pystreams.runtime.kafka_streams import State
from tests.integration.runtime.helpers import (create_topics, produce_lines, random_lines, read_counts_until, unique,
                                               word_counts, wordcount_topology)

pytestmark = [pytest.mark.system]


class TaskEvents:
    """Every task creation and close, per client (the thread name starts with the client id)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lock = threading.Lock()
        self.created: list[tuple[str, Any]] = []
        self.closed: list[tuple[str, Any]] = []
        create, close = task_manager.create_task, task_manager.close_task

        def counting_create(*args: Any, **kwargs: Any) -> Any:
            at = create(*args, **kwargs)
            with self.lock:
                self.created.append((threading.current_thread().name, at.id))
            return at

        def counting_close(at: Any, *args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.closed.append((threading.current_thread().name, at.id))
            return close(at, *args, **kwargs)

        monkeypatch.setattr(task_manager, "create_task", counting_create)
        monkeypatch.setattr(task_manager, "close_task", counting_close)

    def of(self, events: list[tuple[str, Any]], client: KafkaStreams) -> list[Any]:
        with self.lock:
            return [t for name, t in events if name.startswith(client.client_id)]


def _tasks(client: KafkaStreams) -> dict[Any, Any]:
    return {t: at for thread in client.threads for t, at in list(thread.tasks.items())}


def _wait(condition: Any, timeout: float, why: Any) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, why()
        time.sleep(0.1)


def test_a_joining_instance_takes_tasks_without_closing_the_ones_that_stay(kafka_broker: Any, tmp_path: Any,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("coop"), unique("text"), unique("counts")
    create_topics(bootstrap, 4, source, sink)
    events = TaskEvents(monkeypatch)
    config = {"bootstrap.servers": bootstrap, "application.id": app_id, "pystreams.assignor": "streams",
              "commit.interval.ms": 200, "session.timeout.ms": 10_000, "heartbeat.interval.ms": 300}
    first_batch, second_batch = random_lines(31, 400), random_lines(32, 400)
    produce_lines(bootstrap, source, first_batch)
    a = KafkaStreams(wordcount_topology(source, sink), {**config, "state.dir": str(tmp_path / "a")})
    b = KafkaStreams(wordcount_topology(source, sink), {**config, "state.dir": str(tmp_path / "b")})
    feeding = threading.Event()
    try:
        a.start()
        assert a.wait_for_state(State.RUNNING, timeout=60), a.state
        _wait(lambda: len(_tasks(a)) == 8, 30, lambda: _tasks(a))  # 2 sub-topologies x 4 partitions
        expected = word_counts(first_batch)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        before = _tasks(a)
        processed_before = {t: at.task.metrics.processed for t, at in before.items()}
        assert len(events.of(events.created, a)) == 8 and events.of(events.closed, a) == []

        def feed() -> None:  # input keeps arriving while the group rebalances
            for i in range(0, len(second_batch), 50):
                produce_lines(bootstrap, source, second_batch[i:i + 50], 400 + i)
                time.sleep(0.1)
            feeding.set()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        b.start()
        _wait(lambda: len(_tasks(b)) == 4 and len(_tasks(a)) == 4, 60, lambda: (_tasks(a), _tasks(b)))
        assert a.wait_for_state(State.RUNNING, timeout=30) and b.wait_for_state(State.RUNNING, timeout=30)
        feeder.join(60)
        assert feeding.is_set()
        expected = word_counts(first_batch + second_batch)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected

        after = _tasks(a)
        moved = set(before) - set(after)
        assert len(moved) == 4 and set(after) <= set(before) and moved == set(_tasks(b))
        # the only closes on A are the tasks that moved, each once; nothing was re-created
        assert sorted(events.of(events.closed, a)) == sorted(moved)
        assert len(events.of(events.created, a)) == 8
        # the tasks that stayed are the very same objects, and they went on processing the new input
        assert all(after[t] is before[t] for t in after)
        assert sum(after[t].task.metrics.processed - processed_before[t] for t in after) > 0
    finally:
        b.close(60)
        a.close(60)
