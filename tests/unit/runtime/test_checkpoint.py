"""`.checkpoint` files in Kafka's OffsetCheckpoint format and task directory locks."""
from __future__ import annotations

import pytest

from pystreams.runtime.checkpoint import (CheckpointError, TaskDirLock, delete_checkpoint, read_checkpoint,
                                          write_checkpoint)

pytestmark = pytest.mark.unit


def test_checkpoint_file_is_kafkas_format(tmp_path):
    write_checkpoint(str(tmp_path), {("app-store-changelog", 2): 41, ("app-other-changelog", 0): 7})
    assert (tmp_path / ".checkpoint").read_text() == "0\n2\napp-other-changelog 0 7\napp-store-changelog 2 41\n"
    assert read_checkpoint(str(tmp_path)) == {("app-store-changelog", 2): 41, ("app-other-changelog", 0): 7}
    assert not (tmp_path / ".checkpoint.tmp").exists()


def test_reads_a_file_written_by_kafka_streams(tmp_path):
    (tmp_path / ".checkpoint").write_text("0\n1\nwordcount-counts-changelog 1 123\n")
    assert read_checkpoint(str(tmp_path)) == {("wordcount-counts-changelog", 1): 123}


def test_missing_and_deleted_checkpoints_read_as_empty(tmp_path):
    assert read_checkpoint(str(tmp_path)) == {}
    write_checkpoint(str(tmp_path), {("t", 0): 1})
    delete_checkpoint(str(tmp_path))
    delete_checkpoint(str(tmp_path))  # idempotent
    assert read_checkpoint(str(tmp_path)) == {}


@pytest.mark.parametrize("text", ["1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt zero 1\n", ""])
def test_malformed_checkpoints_are_refused_with_the_fix(tmp_path, text):
    (tmp_path / ".checkpoint").write_text(text)
    with pytest.raises(CheckpointError, match="checkpoint"):
        read_checkpoint(str(tmp_path))


def test_a_task_dir_is_locked_by_one_owner_at_a_time(tmp_path):
    first, second = TaskDirLock(str(tmp_path / "0_1")), TaskDirLock(str(tmp_path / "0_1"))
    assert first.try_lock() and first.locked
    assert not second.try_lock()
    first.unlock()
    assert second.try_lock()
    second.unlock()
