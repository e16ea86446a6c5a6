"""task_offset_sums: local state from Kafka-format .checkpoint files, for the SubscriptionInfo."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    LATEST_OFFSET,
    register_local_task,
    task_offset_sums,
    unregister_local_task,
)
from pystreams.runtime.checkpoint import TaskDirLock, write_checkpoint

pytestmark = pytest.mark.unit


def test_checkpointed_tasks_report_next_offset_sums_and_running_ones_latest(tmp_path):
    app = tmp_path / "app"
    write_checkpoint(str(app / "0_1"), {("app-a-changelog", 1): 99, ("app-b-changelog", 1): 9})
    write_checkpoint(str(app / "1_0"), {("app-c-changelog", 0): 4})
    write_checkpoint(str(app / "0_2"), {})  # no offsets: nothing to report
    (app / "kafka-streams-process-metadata").write_text("{}")
    (app / "global").mkdir()
    sums = task_offset_sums(str(tmp_path), "app", [TaskId(1, 0), TaskId(3, 3)])
    assert sums == {TaskId(0, 1): 100 + 10, TaskId(1, 0): LATEST_OFFSET, TaskId(3, 3): LATEST_OFFSET}


def test_no_state_dir_means_only_running_tasks(tmp_path):
    assert task_offset_sums(str(tmp_path), "none", []) == {}


def test_a_corrupt_checkpoint_counts_as_no_state(tmp_path):
    task_dir = tmp_path / "app" / "0_0"
    task_dir.mkdir(parents=True)
    (task_dir / ".checkpoint").write_text("0\n3\nonly-one 0 5\n")
    assert task_offset_sums(str(tmp_path), "app", []) == {}


def test_a_dir_another_process_holds_is_left_to_that_process(tmp_path):
    task_dir = str(tmp_path / "app" / "0_0")
    write_checkpoint(task_dir, {("c", 0): 5})
    holder = subprocess.Popen([sys.executable, "-c",
                               ("import fcntl,sys,time\nf=open(sys.argv[1],'a+')\nfcntl.flock(f, fcntl.LOCK_EX)\n"
                               "print('locked', flush=True)\ntime.sleep(30)"), os.path.join(task_dir, ".lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert task_offset_sums(str(tmp_path), "app", []) == {}
    finally:
        holder.kill()
        holder.wait()
    assert task_offset_sums(str(tmp_path), "app", []) == {TaskId(0, 0): 6}


def test_a_standby_this_process_holds_reports_its_live_offsets(tmp_path):
    task_dir = str(tmp_path / "app" / "0_3")
    write_checkpoint(task_dir, {("c", 3): 10, ("d", 3): 1})
    lock = TaskDirLock(task_dir)
    assert lock.try_lock()
    try:
        register_local_task(task_dir, lambda: {("c", 3): 50})
        assert task_offset_sums(str(tmp_path), "app", []) == {TaskId(0, 3): 51 + 2}
        unregister_local_task(task_dir)
        assert task_offset_sums(str(tmp_path), "app", []) == {}  # locked, not registered: not ours to report
    finally:
        unregister_local_task(task_dir)
        lock.unlock()
