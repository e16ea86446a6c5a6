"""The global .checkpoint holds the NEXT offset to read per partition, as Kafka's GlobalStateManagerImpl writes it
(the consumer's position), with a scripted global consumer (no broker): a clean restart reads nothing, a restart
after new records reads exactly those, a checkpoint of an older pystreams (last offset read, no marker file) is
resumed one past it, and a partition without new records keeps its offset."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING

from pystreams.runtime import global_state
from pystreams.runtime.checkpoint import read_checkpoint, write_checkpoint
from tests.unit.runtime.global_support import (
    TOPIC,
    ScriptedConsumer,
    customer_records,
    global_streams,
    script_global_consumer,
    store_keys,
)

pytestmark = pytest.mark.unit


def _run(tmp_path: Any, monkeypatch: Any, script: list[list[Any]], end: int) -> tuple[Any, ScriptedConsumer]:
    """start() and close() a GlobalStateManager over one partition ending at `end`; (manager, consumer)."""
    consumer = ScriptedConsumer([script])
    script_global_consumer(monkeypatch, consumer, (0, end))
    manager = global_state.GlobalStateManager(global_streams(tmp_path))
    monkeypatch.setattr(manager, "_run", manager._stop.wait)  # no updates after the bootstrap in these tests
    try:
        manager.start(timeout=10)
        keys = store_keys(manager)
    finally:
        manager.close()
    manager.keys = keys
    return manager, consumer


def _task_dir(tmp_path: Any) -> str:
    return str(tmp_path / "global-unit" / "global")


def test_checkpoint_is_the_next_offset_and_a_clean_restart_reads_nothing(tmp_path, monkeypatch):
    first, consumer = _run(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    assert consumer.assigned == [[(TOPIC, 0, OFFSET_BEGINNING)]]
    assert first.records == 3
    assert read_checkpoint(_task_dir(tmp_path)) == {(TOPIC, 0): 3}  # Kafka: position, not last offset read (2)
    again, consumer = _run(tmp_path, monkeypatch, [], end=3)
    assert consumer.assigned == [[(TOPIC, 0, 3)]]  # seek to the checkpoint itself
    assert again.records == 0
    assert again.keys == {"c0", "c1", "c2"}
    assert read_checkpoint(_task_dir(tmp_path)) == {(TOPIC, 0): 3}


def test_restart_after_new_records_reads_exactly_those(tmp_path, monkeypatch):
    _run(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    again, consumer = _run(tmp_path, monkeypatch, [customer_records(range(3, 5), "c")], end=5)
    assert consumer.assigned == [[(TOPIC, 0, 3)]]
    assert again.records == 2
    assert again.keys == {"c0", "c1", "c2", "c3", "c4"}
    assert read_checkpoint(_task_dir(tmp_path)) == {(TOPIC, 0): 5}


def test_checkpoint_of_an_older_pystreams_resumes_after_the_last_offset_read(tmp_path, monkeypatch):
    _run(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    task_dir = _task_dir(tmp_path)
    # what pystreams wrote before: the last offset read (2), and no marker file
    (tmp_path / "global-unit" / "global" / global_state.NEXT_OFFSETS_MARKER).unlink()
    write_checkpoint(task_dir, {(TOPIC, 0): 2})
    again, consumer = _run(tmp_path, monkeypatch, [customer_records(range(3, 4), "c")], end=4)
    assert consumer.assigned == [[(TOPIC, 0, 3)]]  # not 2: offset 2 is in the store already
    assert again.records == 1
    assert read_checkpoint(task_dir) == {(TOPIC, 0): 4}  # rewritten in Kafka's form, with the marker
    assert (tmp_path / "global-unit" / "global" / global_state.NEXT_OFFSETS_MARKER).exists()


def test_a_kafka_form_checkpoint_with_the_marker_is_read_as_is(tmp_path):
    task_dir = tmp_path / "g"
    global_state.write_global_checkpoint(str(task_dir), {(TOPIC, 0): 7, (TOPIC, 1): 0})
    assert global_state.read_global_checkpoint(str(task_dir)) == {(TOPIC, 0): 7, (TOPIC, 1): 0}
    (task_dir / global_state.NEXT_OFFSETS_MARKER).unlink()
    assert global_state.read_global_checkpoint(str(task_dir)) == {(TOPIC, 0): 8, (TOPIC, 1): 1}


def test_a_partition_without_new_records_keeps_its_checkpointed_offset(tmp_path, monkeypatch):
    _run(tmp_path, monkeypatch, [customer_records(range(3), "c")], end=3)
    manager = global_state.GlobalStateManager(global_streams(tmp_path))
    # a second partition, checkpointed earlier, that got nothing new: the next checkpoint must keep it
    manager._offsets = {(TOPIC, 1): 9}
    manager.task = manager._new_task()
    manager.task.initialize()
    try:
        manager._checkpoint()
        assert read_checkpoint(_task_dir(tmp_path)) == {(TOPIC, 1): 9}
    finally:
        manager.task.close()
