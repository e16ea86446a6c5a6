"""StandbyManager driven by the assignment: opens assigned standbys, applies changelog records, reports live
offsets, hands the state dir over (checkpoint, unlock) when a standby goes away; no broker (a fake consumer)."""
from __future__ import annotations

import pytest
from confluent_kafka import OFFSET_BEGINNING

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import task_offset_sums
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint
from tests.unit.runtime.standby_support import (
    CHANGELOG,
    FakeMessage,
    manager_fixture,  # noqa: F401 - the `manager` fixture
)

pytestmark = pytest.mark.unit


def test_assigned_standbys_follow_their_changelog_and_report_live_offsets(manager, tmp_path):
    t = TaskId(0, 1)
    manager.assign({t: [(CHANGELOG, 1)]})
    assert manager.running_standbys() == {t}
    assert manager.consumer.assigned == [(CHANGELOG, 1, OFFSET_BEGINNING)]
    manager.consumer.queue = [FakeMessage(1, o, f"k{o}".encode(), b"\x00" * 8) for o in range(5)]
    assert manager.poll() == 5
    assert manager.tasks[t].offsets == {(CHANGELOG, 1): 4}
    assert task_offset_sums(str(tmp_path), "app", []) == {t: 5}  # live, before any checkpoint
    manager.assign({})  # e.g. it became active on this thread: closed first, state dir handed over
    assert manager.running_standbys() == frozenset()
    assert read_checkpoint(str(tmp_path / "app" / "0_1")) == {(CHANGELOG, 1): 4}
    lock = TaskDirLock(str(tmp_path / "app" / "0_1"))
    assert lock.try_lock()  # released
    lock.unlock()
    manager.assign({t: [(CHANGELOG, 1)]})  # back again: goes on after the checkpoint
    assert manager.consumer.assigned == [(CHANGELOG, 1, 5)]


def test_a_standby_whose_dir_is_still_held_opens_once_it_is_released(manager, tmp_path):
    t = TaskId(0, 0)
    held = TaskDirLock(str(tmp_path / "app" / "0_0"))
    assert held.try_lock()  # its active task has not closed yet
    manager.assign({t: [(CHANGELOG, 0)]})
    assert manager.running_standbys() == frozenset()
    manager.poll()
    assert manager.running_standbys() == frozenset()
    held.unlock()
    manager.poll()
    assert manager.running_standbys() == {t}
    assert manager.consumer.assigned == [(CHANGELOG, 0, OFFSET_BEGINNING)]


def test_close_releases_everything(manager, tmp_path):
    manager.assign({TaskId(0, 0): [(CHANGELOG, 0)], TaskId(0, 1): [(CHANGELOG, 1)]})
    consumer = manager.consumer
    manager.close()
    assert consumer.closed and manager.running_standbys() == frozenset()
    for name in ("0_0", "0_1"):
        lock = TaskDirLock(str(tmp_path / "app" / name))
        assert lock.try_lock()
        lock.unlock()
