"""ActiveTask.wipe_and_revive (a corrupted restoring task): its RocksDB stores are closed, its state dir emptied
(stores and .checkpoint; the lock stays held) and the stores opened again empty, with the thread's record cache
enabled, ready to restore from the beginning."""
from __future__ import annotations

import pytest

from pystreams.processor.task_id import TaskId
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint, write_checkpoint
from pystreams.runtime.tasks import close_task, create_task
from pystreams.runtime.topics import SubtopologyPlan
from pystreams.state.internals.cache import ThreadCache
from tests.unit.runtime.standby_support import CHANGELOG, count_app

pytestmark = pytest.mark.unit


class _NoSends:
    def send(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a restoring task does not produce")

    def partitions_for(self, topic: str) -> int | None:
        return None


def _keys(at) -> set[bytes]:
    return {k for k, _v in at.task._innermost("counts").all()}


def test_wipe_and_revive_empties_the_stores_and_keeps_the_lock(tmp_path):
    topology, config, sub = count_app(tmp_path)
    plan = SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], 1, {"counts": CHANGELOG})
    at = create_task(topology, TaskId(0, 0), plan, config.app_configs(), _NoSends(), str(tmp_path), "app",
                     eos=False, cache=ThreadCache(1 << 20))
    try:
        assert at.persistent_changelogs == {(CHANGELOG, 0): "counts"}
        at.task.restore("counts", [(b"old%d" % i, b"\x00" * 8, 1000, i) for i in range(5)])
        write_checkpoint(at.task_dir, {(CHANGELOG, 0): 4})
        at.task.checkpoint({"counts": 4})
        at.checkpointed[(CHANGELOG, 0)] = 4
        assert _keys(at) == {b"old%d" % i for i in range(5)}
        old = at.task
        at.wipe_and_revive()
        assert at.task is not old and old.closed
        assert _keys(at) == set() and at.task.checkpointed_offsets() == {}
        assert read_checkpoint(at.task_dir) == {} and at.checkpointed == {}
        assert not TaskDirLock(at.task_dir).try_lock()  # still ours
        at.task.restore("counts", [(b"new0", b"\x00" * 8, 1000, 0)])
        assert _keys(at) == {b"new0"}
    finally:
        close_task(at, clean=True, eos=False)
    lock = TaskDirLock(at.task_dir)
    assert lock.try_lock()
    lock.unlock()
