"""When the global thread flushes its stores and writes the global .checkpoint, as Kafka 4.x's GlobalStateUpdateTask:
once the bootstrap is done and at close (KAFKA-18168), and while running only when commit.interval.ms passed since
the last flush AND the offsets moved by more than 10,000 records since (maybeCheckpoint, KAFKA-15625); in between,
updates stay in the global thread's record cache. A scripted consumer fed by the test (no broker) and a clock the
test moves: every step is waited for by its effect (records read, polls made), never by a sleep."""
from __future__ import annotations

import queue
import time
from typing import Any

import pytest

from pystreams.runtime.global_state import GlobalStateManager, read_global_checkpoint
from pystreams.runtime.tasks import OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT
from tests.unit.runtime.global_support import TOPIC, Msg, ScriptedConsumer, customer_records, script_global_consumer
from tests.unit.runtime.test_global_thread_init import _streams

pytestmark = pytest.mark.unit


class QueueConsumer(ScriptedConsumer):
    """The bootstrap's script first; then consume() waits up to its timeout for a batch the test feeds (as a real
    poll waits), counting the polls so a test can wait for the global thread to have gone round its loop."""

    def __init__(self, bootstrap: list[Msg]) -> None:
        super().__init__([[bootstrap]])
        self.fed: queue.Queue[list[Msg]] = queue.Queue()
        self.polls = 0

    def consume(self, num_messages: int = 1, timeout: float = 0) -> list[Msg]:
        self.polls += 1
        if self.batches:
            return super().consume(num_messages, timeout)
        try:
            batch = self.fed.get(timeout=timeout)
        except queue.Empty:
            return []
        self.pos = batch[-1].offset() + 1
        return batch


def wait_until(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def started_manager(tmp_path: Any, monkeypatch: Any, bootstrap: int, **config: Any) -> tuple[Any, Any, list[float]]:
    """A GlobalStateManager bootstrapped from `bootstrap` records and running, with the test's clock."""
    consumer = QueueConsumer(customer_records(range(bootstrap), "c"))
    script_global_consumer(monkeypatch, consumer, (0, bootstrap))
    manager = GlobalStateManager(_streams(tmp_path, **{"poll.ms": 10, **config}))
    now = [1000.0]
    manager._clock = lambda: now[0]
    manager.start(timeout=10)
    return manager, consumer, now


def checkpoint(manager: GlobalStateManager) -> dict[tuple[str, int], int]:
    return read_global_checkpoint(manager.task_dir)


def polls_after(consumer: QueueConsumer, rounds: int) -> Any:
    target = consumer.polls + rounds
    return lambda: consumer.polls >= target


def test_the_bootstrap_end_and_close_write_the_checkpoint(tmp_path, monkeypatch):
    manager, consumer, _now = started_manager(tmp_path, monkeypatch, 3, **{"commit.interval.ms": 60_000})
    try:
        assert checkpoint(manager) == {(TOPIC, 0): 3}  # as the bootstrap ended: a restart now reads nothing again
        consumer.fed.put(customer_records(range(3, 8), "c"))
        wait_until(lambda: manager.records == 8, "the 5 new records")
        wait_until(polls_after(consumer, 3), "three more polls")
        assert checkpoint(manager) == {(TOPIC, 0): 3}  # commit.interval.ms has not passed: no flush, no checkpoint
        named = next(iter(manager.cache.caches.values()))
        assert set(named.dirty) == {f"c{i}".encode() for i in range(3, 8)}  # the updates wait in the record cache
        assert {k for k, _ in manager.stores["customers"].all()} == {f"c{i}" for i in range(8)}  # read through it
    finally:
        manager.close()
    assert checkpoint(manager) == {(TOPIC, 0): 8}  # close flushes and checkpoints


def test_while_running_a_flush_needs_the_commit_interval_and_more_than_10000_records(tmp_path, monkeypatch):
    manager, consumer, now = started_manager(tmp_path, monkeypatch, 3, **{"commit.interval.ms": 1000})
    many = OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT + 1
    try:
        flushes = manager.flushes
        consumer.fed.put(customer_records(range(3, 3 + many), "c"))
        wait_until(lambda: manager.records == 3 + many, f"{many} new records")
        wait_until(polls_after(consumer, 3), "three more polls")
        assert checkpoint(manager) == {(TOPIC, 0): 3} and manager.flushes == flushes  # the interval has not passed

        now[0] += 1.0  # commit.interval.ms passed and the offsets moved by 10,001: flushed at the next poll
        wait_until(lambda: manager.flushes == flushes + 1, "the flush after the interval")  # its last step
        assert checkpoint(manager) == {(TOPIC, 0): 3 + many}
        named = next(iter(manager.cache.caches.values()))
        assert not named.dirty  # the flush wrote the record cache down

        consumer.fed.put(customer_records(range(3 + many, 8 + many), "c"))
        wait_until(lambda: manager.records == 8 + many, "5 more records")
        now[0] += 5.0  # the interval passed again, but 5 records are not enough (Kafka's checkpointNeeded)
        wait_until(polls_after(consumer, 3), "three more polls")
        assert checkpoint(manager) == {(TOPIC, 0): 3 + many} and manager.flushes == flushes + 1
    finally:
        manager.close()
    assert checkpoint(manager) == {(TOPIC, 0): 8 + many}
