"""A standby whose changelog position becomes invalid (Kafka: the standby is marked corrupted and its state
wiped): the changelog consumer going back (re-created or truncated changelog, position reset) or its log start
moving past the next offset to apply; a compaction gap is not corruption. Real RocksDB stores, fake consumer."""
from __future__ import annotations

import logging

import pytest
from confluent_kafka import OFFSET_BEGINNING

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import read_checkpoint
from tests.unit.runtime.standby_support import (
    CHANGELOG,
    FakeMessage,
    manager_fixture,  # noqa: F401 - the `manager` fixture
)

pytestmark = pytest.mark.unit


T = TaskId(0, 1)
TP = (CHANGELOG, 1)


def _records(offsets, tag: bytes = b"") -> list[FakeMessage]:
    return [FakeMessage(1, o, b"k%d%s" % (o, tag), b"\x00" * 8) for o in offsets]


def _keys(manager) -> set[bytes]:
    store = manager.tasks[T].task._innermost("counts")
    return {k for k, _v in store.all()}


def _follow(manager, tmp_path):
    manager.assign({T: [TP]})
    manager.consumer.queue = _records(range(10))
    assert manager.poll() == 10
    manager.checkpoint()
    assert read_checkpoint(str(tmp_path / "app" / "0_1")) == {TP: 9}


def test_a_consumer_going_back_wipes_the_standby(manager, tmp_path, caplog):
    _follow(manager, tmp_path)
    # re-created with 3 other records: the consumer's position 10 was out of range and reset to offset 0
    manager.consumer.queue = _records(range(3), b"-new")
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        assert manager.poll() == 0  # read before the wipe: dropped
    assert "standby task 0_1 is corrupted (changelog app-counts-changelog-1 went back from offset 10 to 0" in \
        caplog.text
    assert manager.corrupted == 1 and manager.tasks[T].offsets == {}
    assert read_checkpoint(str(tmp_path / "app" / "0_1")) == {}  # wiped with the stores
    assert manager.consumer.assigned == [(CHANGELOG, 1, OFFSET_BEGINNING)]
    assert _keys(manager) == set()
    manager.consumer.queue = _records(range(3), b"-new")
    assert manager.poll() == 3
    assert _keys(manager) == {b"k0-new", b"k1-new", b"k2-new"}


@pytest.mark.parametrize(("low", "wiped"), [(15, True), (0, False)], ids=["deleted-records", "compaction-gap"])
def test_a_gap_is_corruption_only_when_the_log_start_moved_past_it(manager, tmp_path, low, wiped):
    _follow(manager, tmp_path)
    manager.consumer.get_watermark_offsets = lambda tp, timeout, cached: (low, 20)
    manager.consumer.queue = _records(range(15, 20))
    assert manager.poll() == (0 if wiped else 5)
    assert manager.corrupted == int(wiped)
    if wiped:
        assert _keys(manager) == set() and manager.consumer.assigned == [(CHANGELOG, 1, OFFSET_BEGINNING)]
    else:
        assert _keys(manager) == {b"k%d" % o for o in [*range(10), *range(15, 20)]}
        assert manager.tasks[T].offsets == {TP: 19}


def test_a_standby_opened_from_a_checkpoint_past_a_recreated_changelogs_end_is_wiped(manager, tmp_path):
    _follow(manager, tmp_path)
    manager.assign({})  # closed: checkpoint 9 stays on disk
    manager.assign({T: [TP]})
    assert manager.consumer.assigned == [(CHANGELOG, 1, 10)]
    manager.consumer.queue = _records(range(2), b"-new")  # re-created meanwhile: reset to its beginning
    manager.poll()
    assert manager.corrupted == 1 and _keys(manager) == set()
