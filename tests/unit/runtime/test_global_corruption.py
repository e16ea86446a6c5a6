"""GlobalStateManager's corruption paths with a scripted global consumer (no broker): the consumer's position
going out of range while start() bootstraps (auto.offset.reset=error's _AUTO_OFFSET_RESET) wipes the global state
and reads every partition again from the beginning; out of range after start() fails the global thread with
Kafka's "Updating global state failed" and wipes the global state when it closes."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING

from pystreams.runtime import global_state
from tests.unit.runtime.global_support import (
    TOPIC,
    ScriptedConsumer,
    customer_records,
    global_streams,
    out_of_range,
    script_global_consumer,
    store_keys,
)

pytestmark = pytest.mark.unit


def test_out_of_range_while_bootstrapping_wipes_and_reads_again_from_the_beginning(tmp_path, monkeypatch):
    # first assignment: c0-c4 arrive, then the position is out of range (the topic was re-created meanwhile);
    # after the wipe, the beginning of the new topic: d0-d2
    consumer = ScriptedConsumer([[customer_records(range(5), "c"), [out_of_range(5)]],
                                 [customer_records(range(3), "d")]])
    script_global_consumer(monkeypatch, consumer, (0, 10), (0, 3))
    manager = global_state.GlobalStateManager(global_streams(tmp_path))
    monkeypatch.setattr(manager, "_run", manager._stop.wait)  # no updates after the bootstrap in this test
    try:
        manager.start(timeout=10)
        assert store_keys(manager) == {"d0", "d1", "d2"}  # none of c0-c4: the old state was wiped
        assert manager.corrupted == 1 and manager.records == 3
        assert consumer.assigned == [[(TOPIC, 0, OFFSET_BEGINNING)], [(TOPIC, 0, OFFSET_BEGINNING)]]
    finally:
        manager.close()


def test_out_of_range_while_running_fails_like_kafka_and_wipes_on_close(tmp_path, monkeypatch):
    script_global_consumer(monkeypatch, ScriptedConsumer([[customer_records(range(3), "c"), [], [out_of_range(3)]]]),
                           (0, 3))
    streams = global_streams(tmp_path)
    failures: list[tuple[Any, BaseException]] = []
    monkeypatch.setattr(streams, "_thread_failed", lambda thread, error: failures.append((thread, error)))
    manager = global_state.GlobalStateManager(streams)
    try:
        manager.start(timeout=10)
        assert manager._thread is not None
        manager._thread.join(10)
        assert not manager._thread.is_alive()
        assert [t for t, _ in failures] == [manager]
        assert "Updating global state failed" in str(failures[0][1])
        assert "restart KafkaStreams" in str(failures[0][1])
    finally:
        manager.close()
    task_dir = tmp_path / "global-unit" / "global"
    assert sorted(p.name for p in task_dir.iterdir()) == [".lock"]  # the global state is wiped on close
