"""A store without a changelog offset (an empty changelog) in `.checkpoint`: Kafka's OFFSET_UNKNOWN (-4), never
-1; -1 written by older pystreams is skipped when read (Kafka's OffsetCheckpoint.read); an empty map deletes the
file; checkpoint_task of a task whose changelog is empty writes OFFSET_UNKNOWN and a restore then starts at the
changelog's beginning."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from pystreams.runtime.checkpoint import (
    OFFSET_UNKNOWN,
    CheckpointError,
    known_offset,
    read_checkpoint,
    write_checkpoint,
)
from pystreams.runtime.restore import ChangelogReader
from pystreams.runtime.tasks import ActiveTask, checkpoint_task
from tests.unit.runtime.test_restore_changelog_reader import CL, FakeConsumer, _task

pytestmark = pytest.mark.unit


def test_offset_unknown_is_written_and_read_as_kafka_does(tmp_path):
    write_checkpoint(str(tmp_path), {(CL, 0): OFFSET_UNKNOWN, (CL, 1): 7})
    assert (tmp_path / ".checkpoint").read_text() == f"0\n2\n{CL} 0 -4\n{CL} 1 7\n"
    offsets = read_checkpoint(str(tmp_path))
    assert offsets == {(CL, 0): -4, (CL, 1): 7}
    assert known_offset(offsets[(CL, 0)]) is None and known_offset(offsets[(CL, 1)]) == 7
    assert known_offset(offsets.get((CL, 2))) is None


def test_other_negative_offsets_are_refused_on_write_and_skipped_on_read(tmp_path, caplog):
    with pytest.raises(CheckpointError, match="negative offsets"):
        write_checkpoint(str(tmp_path), {(CL, 0): -1})
    assert not (tmp_path / ".checkpoint").exists()
    (tmp_path / ".checkpoint").write_text(f"0\n2\n{CL} 0 -1\n{CL} 1 5\n")  # what pystreams wrote before
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        assert read_checkpoint(str(tmp_path)) == {(CL, 1): 5}
    assert "Read offset=-1" in caplog.text


def test_no_offsets_deletes_the_file(tmp_path):
    write_checkpoint(str(tmp_path), {(CL, 0): 3})
    write_checkpoint(str(tmp_path), {})
    assert not (tmp_path / ".checkpoint").exists()


class _Stores:
    def __init__(self) -> None:
        self.stored: dict[str, int] = {}

    def changelog_topics(self) -> dict[str, str]:
        return {"store": CL}

    def checkpoint(self, offsets: dict[str, int]) -> None:
        self.stored.update(offsets)


def test_a_task_closed_with_an_empty_changelog_checkpoints_offset_unknown_and_restores_from_the_start(tmp_path):
    at = ActiveTask.__new__(ActiveTask)
    at.task, at.task_dir = _Stores(), str(tmp_path)
    at.persistent_changelogs = {(CL, 0): "store"}
    at.changelog_next, at.checkpointed = {(CL, 0): 0}, {}
    consumer = SimpleNamespace(get_watermark_offsets=lambda tp, timeout, cached: (0, 0))
    assert checkpoint_task(at, consumer, None, force=True) == {(CL, 0): -1}
    assert (tmp_path / ".checkpoint").read_text() == f"0\n1\n{CL} 0 -4\n"
    assert at.task.stored == {}  # no offset kept with the data either

    # the changelog got records meanwhile (another owner): the next restore reads it from its beginning
    restore_consumer = FakeConsumer({(CL, 0): 5})
    (tmp_path / "next").mkdir()
    task = _task(tmp_path / "next", 0)
    (tmp_path / "next" / "0_0" / ".checkpoint").write_text((tmp_path / ".checkpoint").read_text())
    reader = ChangelogReader(restore_consumer, eos=True)
    assert reader.add(task, [("in", 0)]) is False
    assert restore_consumer.calls == [("assign", [(CL, 0, -2)])]  # OFFSET_BEGINNING
    assert task.checkpointed == {(CL, 0): -1}
    _, ready = reader.restore(100, 0.0)
    assert [rt.at for rt in ready] == [task] and task.task.restored == [("store", o) for o in range(5)]
